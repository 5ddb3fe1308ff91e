package service

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/updater"
)

// TestFeedsReady: an empty store is not ready and says which feeds it
// lacks; once the real alpine feed is loaded, only the other is missing.
func TestFeedsReady(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = FeedsReady(ctx, st, []string{"alpine", "debian"})
	if err == nil || !strings.Contains(err.Error(), "alpine, debian") {
		t.Errorf("empty store: %v", err)
	}
	abs, _ := filepath.Abs("../testdata/feeds/alpine")
	f, _ := feed.Lookup("alpine")
	if _, err := (&updater.Updater{Store: st, URLs: map[string]string{"alpine": "file://" + abs}}).Run(ctx, []feed.Feed{f}); err != nil {
		t.Fatal(err)
	}
	err = FeedsReady(ctx, st, []string{"alpine", "debian"})
	if err == nil || strings.Contains(err.Error(), "alpine") || !strings.Contains(err.Error(), "debian") {
		t.Errorf("alpine loaded: %v", err)
	}
	if err := FeedsReady(ctx, st, []string{"alpine"}); err != nil {
		t.Errorf("only alpine configured: %v", err)
	}
}
