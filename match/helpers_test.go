package match

import (
	"testing"

	"github.com/openclair/clair/version"
)

func lookup(t *testing.T, name string) (version.Scheme, bool) {
	t.Helper()
	s, ok := version.Lookup(name)
	if !ok {
		t.Fatalf("no scheme %q", name)
	}
	return s, ok
}
