package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	_ "github.com/openclair/clair/feed/alpine"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/scanner"
	_ "github.com/openclair/clair/scanner/apk"
	_ "github.com/openclair/clair/scanner/distro"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/updater"
	_ "github.com/openclair/clair/version/apk"
	"github.com/openclair/clair/vuln"
)

// TestReportFollowsFeeds checks the encoded-report cache never serves
// yesterday's data: a feed update changes the answer at once.
func TestReportFollowsFeeds(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	abs, _ := filepath.Abs("../testdata/feeds/alpine")
	f, _ := feed.Lookup("alpine")
	u := &updater.Updater{Store: st, URLs: map[string]string{"alpine": "file://" + abs}}
	if _, err := u.Run(ctx, []feed.Feed{f}); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(ctx, "docker-archive:../testdata/images/alpine-3.18.9.tar", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ir, err := (&index.Indexer{Store: st, Scanners: scanner.All()}).Index(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutIndexReport(ctx, ir); err != nil {
		t.Fatal(err)
	}
	matches := 0
	m := &Matcher{Reports: st, Match: &match.Matcher{Store: st}, Feeds: st,
		Observe: func(time.Duration, error) { matches++ }}

	first, err := m.ReportJSON(ctx, ir.ManifestHash)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(first.JSON, []byte("CVE-2024-9143")) {
		t.Fatalf("report lacks CVE-2024-9143")
	}
	again, err := m.ReportJSON(ctx, ir.ManifestHash)
	if err != nil || !bytes.Equal(first.JSON, again.JSON) || matches != 1 {
		t.Errorf("second request: err %v, %d matches (want 1: cached)", err, matches)
	}
	zr, err := gzip.NewReader(bytes.NewReader(again.Gzip()))
	if err != nil {
		t.Fatal(err)
	}
	if unz, err := io.ReadAll(zr); err != nil || !bytes.Equal(unz, first.JSON) {
		t.Errorf("gzip form differs: %v", err)
	}
	// Upstream withdraws everything: the next request says so.
	if _, err := st.ReplaceFeed(ctx, "alpine", "empty", func(func(*vuln.Advisory) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	after, err := m.ReportJSON(ctx, ir.ManifestHash)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(after.JSON, []byte("CVE-2024-9143")) || matches != 2 {
		t.Errorf("after the feed changed: still reported, or not recomputed (%d matches)", matches)
	}
}
