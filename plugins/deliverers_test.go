package plugins

import (
	"slices"
	"testing"

	"github.com/openclair/clair/notify"
)

func TestDeliverersShip(t *testing.T) {
	if got := notify.DelivererNames(); !slices.Equal(got, []string{"amqp", "stomp", "webhook"}) {
		t.Errorf("deliverers %v", got)
	}
}
