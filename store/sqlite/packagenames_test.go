package sqlite

import (
	"testing"

	"github.com/openclair/clair/store/storetest"
)

func TestPackageNames(t *testing.T) { storetest.RunPackageNames(t, openTemp(t)) }
