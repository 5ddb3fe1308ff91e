package amqp

import (
	"context"
	"fmt"
	"testing"

	"github.com/openclair/clair/notify"
)

// BenchmarkDeliver: one notification set per op, on the real broker. The
// floor is callback mode (one message); direct mode sends 1000
// notifications, one a message (Clair's default) or 100 a message.
func BenchmarkDeliver(b *testing.B) {
	for _, bc := range []struct {
		name   string
		direct bool
		rollup int
	}{{"callback", false, 0}, {"direct-1000/rollup=1", true, 1}, {"direct-1000/rollup=100", true, 100}} {
		b.Run(bc.name, func(b *testing.B) {
			br := setup(b)
			c := br.conf()
			c.Direct, c.Rollup = bc.direct, bc.rollup
			d, err := New(c)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			set := set(1000)
			if !bc.direct {
				set = notify.Delivery{ID: id}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.Deliver(context.Background(), set); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			br.purge(b)
		})
	}
}

func (br *broker) purge(tb testing.TB) {
	if _, err := br.ch.QueuePurge(br.queue, false); err != nil {
		tb.Fatal(fmt.Errorf("purge: %w", err))
	}
}
