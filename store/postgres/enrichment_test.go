package postgres

import (
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/storetest"
)

func TestEnrichment(t *testing.T) {
	storetest.RunEnrichment(t, func(t *testing.T) store.Store { return openCfg(t, testSchema(t)) })
}
