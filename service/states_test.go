package service

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/updater"
)

// countingStore counts FeedStates calls.
type countingStore struct {
	*sqlite.Store
	n atomic.Int32
}

func (c *countingStore) FeedStates(ctx context.Context) ([]store.FeedState, error) {
	c.n.Add(1)
	return c.Store.FeedStates(ctx)
}

// TestFeedStatesOnce: a report request reads the feeds' states once, for
// its own cache key and the matcher's.
func TestFeedStatesOnce(t *testing.T) {
	ctx := context.Background()
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	st := &countingStore{Store: sq}
	abs, _ := filepath.Abs("../testdata/feeds/alpine")
	f, _ := feed.Lookup("alpine")
	if _, err := (&updater.Updater{Store: sq, URLs: map[string]string{"alpine": "file://" + abs}}).Run(ctx, []feed.Feed{f}); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(ctx, "docker-archive:../testdata/images/alpine-3.18.9.tar", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ir, err := (&index.Indexer{Store: sq, Scanners: scanner.All()}).Index(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if err := sq.PutIndexReport(ctx, ir); err != nil {
		t.Fatal(err)
	}
	m := &Matcher{Reports: sq, Match: &match.Matcher{Store: st}, Feeds: st}
	if _, err := m.ReportJSON(ctx, ir.ManifestHash); err != nil {
		t.Fatal(err)
	}
	if n := st.n.Load(); n != 1 {
		t.Errorf("FeedStates read %d times for one report, want 1", n)
	}
}
