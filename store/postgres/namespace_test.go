package postgres

import (
	"testing"

	"github.com/openclair/clair/store/storetest"
)

func TestNamespaces(t *testing.T) { storetest.RunNamespaces(t, openCfg(t, testSchema(t))) }
