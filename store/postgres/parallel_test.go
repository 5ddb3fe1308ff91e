package postgres

import (
	"context"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
)

// TestSplitQueriesSame: advisories and details read in parallel runs are
// those read a few names at a time (bigreport.SameSplit).
func TestSplitQueriesSame(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full Debian feed")
	}
	st, err := OpenConfig(context.Background(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bigreport.Load(t, st, t.TempDir())
	bigreport.SameSplit(t, st)
}
