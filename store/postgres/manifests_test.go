package postgres

import (
	"testing"

	"github.com/openclair/clair/store/storetest"
)

func TestManifests(t *testing.T) { storetest.RunManifests(t, openCfg(t, testSchema(t))) }
