package match_test

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/dpkg"
	"github.com/openclair/clair/store/sqlite"
	_ "github.com/openclair/clair/version/deb"
	"github.com/openclair/clair/vuln"
)

const shared = "../../shared/testdata"

// realDebianPackages reads every real Debian dpkg status file of the shared
// test data and keeps up to n distinct binary packages.
func realDebianPackages(tb testing.TB, n int) map[string]*vuln.Package {
	files := []string{
		"pkgdb/rootfs/debian-12-python3.12-slim-langflow/var/lib/dpkg/status",
		"pkgdb/rootfs/debian-11-nginx/var/lib/dpkg/status",
		"pkgdb/dpkg/claircore-texlive.status",
		"pkgdb/dpkg/claircore-postgresql.status",
		"pkgdb/dpkg/claircore-vcpkg.status",
		"pkgdb/dpkg/claircore-debian-only.status",
		"pkgdb/dpkg/trivy-ubuntu-status",
		"pkgdb/rootfs/ubuntu-20.04-base-industio/var/lib/dpkg/status",
	}
	seen := map[string]bool{}
	out := map[string]*vuln.Package{}
	var s dpkg.Scanner
	for _, f := range files {
		fh, err := os.Open(filepath.Join(shared, f))
		if err != nil {
			tb.Fatal(err)
		}
		res, err := s.Scan(context.Background(), scanner.File{Path: "var/lib/dpkg/status", R: fh})
		fh.Close()
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range res.Packages {
			// Distinct by name and version: the union of several real
			// images stands in for one large image.
			k := p.Name + " " + p.Version
			if seen[k] || len(out) >= n {
				continue
			}
			seen[k] = true
			p.ID = strconv.Itoa(len(out) + 1)
			out[p.ID] = p
		}
	}
	return out
}

// BenchmarkMatchFullDebian matches a 700-package Debian image (real package
// records) against the full-size Debian tracker feed on SQLite, warm.
func BenchmarkMatchFullDebian(b *testing.B) {
	tracker := filepath.Join(shared, "feeds/debian/tracker-json-from-osv.json.gz")
	if _, err := os.Stat(tracker); err != nil {
		b.Skip("../shared/testdata is absent: the full-size tracker JSON is needed")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "clair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	// The tracker JSON, unpacked to a file, as the updater would hold it.
	snap := filepath.Join(b.TempDir(), "tracker.json")
	if err := gunzip(tracker, snap); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(snap)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	feed := debian.New()
	if _, err := st.ReplaceFeed(ctx, "debian", "bench", func(emit func(*vuln.Advisory) error) error {
		return feed.Parse(ctx, f, fi.Size(), func(a *vuln.Advisory) error { a.Feed = "debian"; return emit(a) })
	}); err != nil {
		b.Fatal(err)
	}

	pkgs := realDebianPackages(b, 700)
	if len(pkgs) < 700 {
		b.Fatalf("only %d real packages", len(pkgs))
	}
	ir := &vuln.IndexReport{
		ManifestHash:  "sha256:bench",
		Packages:      pkgs,
		Distributions: map[string]*vuln.Distribution{"1": {ID: "1", DID: "debian", VersionID: "12", VersionCodeName: "bookworm"}},
		Environments:  map[string][]*vuln.Environment{},
	}
	ids := make([]string, 0, len(pkgs))
	for id := range pkgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ir.Environments[id] = []*vuln.Environment{{PackageDB: "var/lib/dpkg/status", DistributionID: "1"}}
	}
	m := &match.Matcher{Store: st}
	vr, err := m.Match(ctx, ir) // warm the page cache
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(vr.Vulnerabilities)), "vulns")
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Match(ctx, ir); err != nil {
			b.Fatal(err)
		}
	}
}

func gunzip(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, zr); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
