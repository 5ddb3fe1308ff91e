package postgres

import (
	"testing"

	"github.com/openclair/clair/store/storetest"
)

func TestPackageNames(t *testing.T) { storetest.RunPackageNames(t, openCfg(t, testSchema(t))) }
