package updater

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store/sqlite"
)

// TestShrinkGuard: the real Debian tracker is stored, then an empty but
// valid document ("{}") comes: the update is refused naming the feed and
// the counts, the stored snapshot stays, and only Force accepts it.
func TestShrinkGuard(t *testing.T) {
	tracker := realTracker(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	empty := filepath.Join(t.TempDir(), "empty.json")
	if err := os.WriteFile(empty, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	feeds := []feed.Feed{debian.New()}
	u := &Updater{Store: st, URLs: map[string]string{"debian": tracker}, TempDir: t.TempDir()}
	res, err := u.Run(ctx, feeds)
	if err != nil {
		t.Fatal(err)
	}
	stored := res[0].Advisories
	if stored == 0 || !raceEnabled && stored < ShrinkMinimum {
		t.Fatalf("%d advisories from the real tracker", stored)
	}

	u.URLs["debian"] = empty
	_, err = u.Run(ctx, feeds)
	var se *ShrinkError
	if !errors.As(err, &se) || se.Feed != "debian" || se.Stored != stored || se.Parsed != 0 {
		t.Fatalf("empty snapshot: %v, want a ShrinkError of debian %d → 0", err, stored)
	}
	t.Logf("refusal: %v", err)
	if s, err := st.FeedState(ctx, "debian"); err != nil || s.Advisories != stored {
		t.Fatalf("after the refusal: %+v %v, want %d advisories kept", s, err, stored)
	}

	u.Force = true
	res, err = u.Run(ctx, feeds)
	if err != nil || !res[0].Changed || res[0].Advisories != 0 {
		t.Fatalf("forced: %+v %v", res, err)
	}
}

func TestShrinks(t *testing.T) {
	for _, c := range []struct {
		stored, parsed int
		want           bool
	}{
		{0, 0, false}, {10, 0, true}, {10, 1, false}, {999, 100, false},
		{1000, 499, true}, {1000, 500, false}, {100051, 0, true}, {100051, 60000, false},
	} {
		if got := shrinks(c.stored, c.parsed); got != c.want {
			t.Errorf("shrinks(%d, %d) = %v, want %v", c.stored, c.parsed, got, c.want)
		}
	}
}

// TestCleanTemp: a killed update's snapshot (the name this version gives,
// with a dead pid; the names earlier versions gave, once a day old) is
// removed when the next updater starts; a live process's file, a recent
// pid-less one and other files stay.
func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-25 * time.Hour)
	recent := time.Now().Add(-time.Hour)
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dead := mk(feed.TempPrefix + "2147483646-debian-123")
	legacy := mk("clair-feed-debian-456")
	legacyDir := filepath.Join(dir, "clair-osv-789")
	if err := os.Mkdir(legacyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(legacyDir, old, old)
	live := mk(feed.TempPrefix + strconv.Itoa(os.Getppid()) + "-debian-789")
	other := mk("clair-archive-1.tar")
	// A pid-less name an hour old may be a live older version's.
	young := mk("clair-feed-osv-321")
	os.Chtimes(young, recent, recent)
	deadRecent := mk(feed.TempPrefix + "2147483646-alpine-1")
	os.Chtimes(deadRecent, recent, recent)
	u := &Updater{Store: nil, TempDir: dir}
	u.cleanTemp()
	for _, p := range []string{dead, deadRecent, legacy, legacyDir} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: left behind (%v)", filepath.Base(p), err)
		}
	}
	for _, p := range []string{live, other, young} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: removed (%v)", filepath.Base(p), err)
		}
	}
}

// realTracker is the whole real Debian tracker (gzip, as mirrors serve it),
// or under the race detector the repository's real excerpt of it.
func realTracker(t testing.TB) string {
	if raceEnabled {
		p, err := filepath.Abs(filepath.Join("..", "testdata", "feeds", "debian-bullseye-nginx.json"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	return sharedtest.Path(t, "feeds/debian/tracker-json-from-osv.json.gz")
}
