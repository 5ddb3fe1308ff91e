package sqlite

import (
	"testing"

	"github.com/openclair/clair/store/storetest"
)

func TestManifests(t *testing.T) { storetest.RunManifests(t, openTemp(t)) }
