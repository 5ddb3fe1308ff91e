package updater

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/store/sqlite"
)

// TestRun serves the repository's real Debian tracker excerpt over HTTP with
// an ETag, as the tracker does, and follows one feed through an update, an
// unchanged check and a failed update.
func TestRun(t *testing.T) {
	good, err := os.ReadFile("../testdata/feeds/debian-bullseye-nginx.json")
	if err != nil {
		t.Fatal(err)
	}
	body := good
	etag := `"v1"`
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(body)
	}))
	defer srv.Close()

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := &Updater{Store: st, URLs: map[string]string{"debian": srv.URL + "/tracker/data/json"}, TempDir: t.TempDir()}
	feeds := []feed.Feed{debian.New()}

	res, err := u.Run(ctx, feeds)
	if err != nil || !res[0].Changed || res[0].Advisories == 0 {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	first := res[0].Advisories

	requests.Store(0)
	res, err = u.Run(ctx, feeds)
	if err != nil || res[0].Changed || res[0].Advisories != first || requests.Load() != 1 {
		t.Fatalf("unchanged run: %+v, %v, %d requests", res, err, requests.Load())
	}

	// A new, broken snapshot: the update fails naming the feed, and the
	// stored snapshot stays.
	body, etag = good[:len(good)/2], `"v2"`
	res, err = u.Run(ctx, feeds)
	if err == nil || res[0].Err == nil {
		t.Fatalf("broken snapshot accepted: %+v", res)
	}
	stt, err := st.FeedState(ctx, "debian")
	if err != nil || stt.Advisories != first {
		t.Fatalf("after a failed update: %+v, %v; want %d advisories kept", stt, err, first)
	}
	// The failed fingerprint was not recorded: the next run fetches again.
	body = good
	res, err = u.Run(ctx, feeds)
	if err != nil || !res[0].Changed {
		t.Fatalf("recovery run: %+v, %v", res, err)
	}
	entries, _ := os.ReadDir(u.TempDir)
	if len(entries) != 0 {
		t.Errorf("%d temporary files left behind", len(entries))
	}
}
