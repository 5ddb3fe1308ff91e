package sqlite

import (
	"testing"

	"github.com/openclair/clair/store/storetest"
)

func TestNamespaces(t *testing.T) { storetest.RunNamespaces(t, openTemp(t)) }
