package sqlite_test

import (
	"testing"

	"github.com/openclair/clair/internal/bigreport"
)

// TestSplitQueriesSame checks that advisories and details read in parallel
// runs (many names) are those read a few names at a time (no split), on the
// full Debian feed and the 700-package image's source names.
func TestSplitQueriesSame(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full Debian feed")
	}
	st := bigreport.Store(t, t.TempDir())
	defer st.Close()
	bigreport.SameSplit(t, st)
}
