package updater

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	_ "github.com/openclair/clair/feed/alpine"
	"github.com/openclair/clair/store/sqlite"
)

// TestRoundSkipsLockedFeeds: a feed whose lock another instance holds is
// left to it; once free, the next round updates it, and GC runs after.
func TestRoundSkipsLockedFeeds(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	abs, _ := filepath.Abs("../testdata/feeds/alpine")
	f, _ := feed.Lookup("alpine")
	gcs := 0
	s := &Scheduler{
		Updater:   &Updater{Store: st, URLs: map[string]string{"alpine": "file://" + abs}},
		Locks:     st,
		Feeds:     []feed.Feed{f},
		Period:    time.Hour,
		Retention: 2,
		GC: func(ctx context.Context, keep int) (int, error) {
			gcs++
			return st.GC(ctx, keep)
		},
	}
	unlock, ok, err := st.TryLock(ctx, "feed:alpine")
	if err != nil || !ok {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	if res := s.Round(ctx); len(res) != 0 {
		t.Errorf("updated a feed another instance holds: %+v", res)
	}
	unlock()
	res := s.Round(ctx)
	if len(res) != 1 || res[0].Err != nil || !res[0].Changed {
		t.Fatalf("round after unlock: %+v", res)
	}
	if gcs != 2 {
		t.Errorf("GC ran %d times, want after each round", gcs)
	}
	if _, ok, _ := st.TryLock(ctx, "feed:alpine"); !ok {
		t.Error("the round kept the feed's lock")
	}
}
