// Package bigreport builds, for benchmarks, the load test's large image
// (tools/loadtest/mkimage.py): 700 real Debian and Ubuntu dpkg stanzas from
// ../shared/testdata, seen as one Debian 12 image, in a SQLite store holding
// the full-size Debian tracker feed. Matched, it gives some ten thousand
// package/vulnerability pairs and a report of about 9.5 MB.
package bigreport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openclair/clair/internal/reporttest"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/dpkg"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/sqlite"
	_ "github.com/openclair/clair/version/deb" // the matcher compares Debian versions
	"github.com/openclair/clair/vuln"
)

// Manifest is the index report's manifest digest.
const Manifest = "sha256:0000000000000000000000000000000000000000000000000000000000000700"

// statusFiles are mkimage.py's, in its order.
var statusFiles = []string{
	"pkgdb/rootfs/debian-12-python3.12-slim-langflow/var/lib/dpkg/status",
	"pkgdb/rootfs/debian-11-nginx/var/lib/dpkg/status",
	"pkgdb/dpkg/claircore-texlive.status",
	"pkgdb/dpkg/claircore-postgresql.status",
	"pkgdb/dpkg/claircore-vcpkg.status",
	"pkgdb/dpkg/claircore-debian-only.status",
	"pkgdb/dpkg/trivy-dpkg_apt-status",
	"pkgdb/dpkg/trivy-ubuntu-status",
	"pkgdb/rootfs/ubuntu-20.04-base-industio/var/lib/dpkg/status",
}

// Status returns the image's dpkg status file with n stanzas, built as
// mkimage.py builds it (first stanza of each installed package name wins;
// short of n, the i386 twins of "Multi-Arch: same" libraries).
func Status(tb testing.TB, n int) []byte {
	tb.Helper()
	seen := map[string]bool{}
	var stanzas []string
	for _, f := range statusFiles {
		if len(stanzas) == n {
			break
		}
		b, err := os.ReadFile(sharedtest.Path(tb, f))
		if err != nil {
			tb.Fatal(err)
		}
		for _, st := range strings.Split(string(b), "\n\n") {
			name := ""
			for _, l := range strings.Split(st, "\n") {
				if strings.HasPrefix(l, "Package: ") {
					name = l[9:]
					break
				}
			}
			if name == "" || seen[name] || !strings.Contains(st, "Status: install ok installed") {
				continue
			}
			seen[name] = true
			stanzas = append(stanzas, strings.TrimSpace(st)+"\n")
			if len(stanzas) == n {
				break
			}
		}
	}
	for _, st := range stanzas {
		if len(stanzas) >= n {
			break
		}
		if strings.Contains(st, "Multi-Arch: same") && strings.Contains(st, "Architecture: amd64") {
			stanzas = append(stanzas, strings.Replace(st, "Architecture: amd64", "Architecture: i386", 1))
		}
	}
	return []byte(strings.Join(stanzas, "\n"))
}

// IndexReport returns the image's index report (dpkg's packages on Debian 12).
func IndexReport(tb testing.TB) *vuln.IndexReport {
	tb.Helper()
	res, err := (&dpkg.Scanner{}).Scan(context.Background(), scanner.File{Path: "var/lib/dpkg/status", R: bytes.NewReader(Status(tb, 700))})
	if err != nil {
		tb.Fatal(err)
	}
	ir := &vuln.IndexReport{
		ManifestHash:  Manifest,
		State:         vuln.IndexFinished,
		Success:       true,
		Packages:      map[string]*vuln.Package{},
		Distributions: map[string]*vuln.Distribution{"1": {ID: "1", DID: "debian", Name: "Debian GNU/Linux", Version: "12 (bookworm)", VersionCodeName: "bookworm", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"}},
		Repositories:  map[string]*vuln.Repository{},
		Environments:  map[string][]*vuln.Environment{},
		Layers:        []string{"sha256:0000000000000000000000000000000000000000000000000000000000000701"},
	}
	for i, p := range res.Packages {
		p.ID = strconv.Itoa(i + 1)
		ir.Packages[p.ID] = p
		ir.Environments[p.ID] = []*vuln.Environment{{PackageDB: "var/lib/dpkg/status", IntroducedIn: ir.Layers[0], DistributionID: "1"}}
	}
	return ir
}

// Store opens a SQLite store in dir holding the full-size Debian tracker
// feed and the image's index report, or skips where ../shared/testdata is
// absent.
func Store(tb testing.TB, dir string) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "clair.db"))
	if err != nil {
		tb.Fatal(err)
	}
	Load(tb, st, dir)
	return st
}

// Load stores the full-size Debian tracker feed and the image's index
// report in st (any store), using dir for a temporary file, or skips where
// ../shared/testdata is absent.
func Load(tb testing.TB, st store.Store, dir string) {
	tb.Helper()
	tracker := sharedtest.Path(tb, "feeds/debian/tracker-json-from-osv.json.gz")
	ctx := context.Background()
	snap := filepath.Join(dir, "tracker.json")
	if err := reporttest.Gunzip(tracker, snap); err != nil {
		tb.Fatal(err)
	}
	if err := reporttest.LoadDebianFeed(ctx, st, snap); err != nil {
		tb.Fatal(err)
	}
	if err := st.PutIndexReport(ctx, IndexReport(tb)); err != nil {
		tb.Fatal(err)
	}
}

// CPU returns the process's user and system CPU time so far. The machine
// these benchmarks run on is shared, so wall time per operation says as much
// about the neighbours as about the code; CPU time per operation
// (ReportCPU) says less about them.
func CPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU reports the CPU time per operation since start (a CPU value),
// as the metric cpu-ns/op.
func ReportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(CPU()-start)/float64(b.N), "cpu-ns/op")
}

// Bench runs op as the sub-benchmark name, CPU time beside wall time, and
// throughput over size bytes when size is not zero; an error from op ends
// the benchmark.
func Bench(b *testing.B, name string, size int, op func() error) {
	b.Run(name, func(b *testing.B) {
		if size > 0 {
			b.SetBytes(int64(size))
		}
		cpu := CPU()
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		ReportCPU(b, cpu)
	})
}

// BenchCopy is the floor beside an encoder's benchmark: the sub-benchmark
// name copying js, the bytes it writes.
func BenchCopy(b *testing.B, name string, js []byte) {
	dst := make([]byte, 0, len(js))
	Bench(b, name, len(js), func() error {
		dst = append(dst[:0], js...)
		return nil
	})
}

// EncodeStd writes v as encoding/json does for the report endpoints: one
// line, HTML characters as they are.
func EncodeStd(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// SameSplit checks that st's advisories and details read in one call for
// the image's source names (several hundred: a store that splits long
// calls into parallel runs does so) are those read a few names at a time,
// on the full Debian feed (Load).
func SameSplit(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	ir := IndexReport(t)
	ns := vuln.Namespace(ir.Distributions["1"])
	var names []string
	for _, p := range ir.Packages {
		names = append(names, p.SourceName())
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 256 {
		t.Fatalf("only %d source names: the split is not exercised", len(names))
	}
	key := func(a *vuln.Advisory) string {
		return fmt.Sprintf("%s|%s|%s|%s|%s|%q|%q|%q|%q", a.Feed, a.Package, a.Name, a.FixedIn, a.State, a.Ranges, a.Versions, a.Description, a.Aliases)
	}
	keys := func(as []*vuln.Advisory) []string {
		var ks []string
		for _, a := range as {
			ks = append(ks, key(a))
		}
		slices.Sort(ks)
		return ks
	}
	all, err := st.Advisories(ctx, ns, names)
	if err != nil {
		t.Fatal(err)
	}
	var few []*vuln.Advisory
	for i := 0; i < len(names); i += 50 {
		as, err := st.Advisories(ctx, ns, names[i:min(i+50, len(names))])
		if err != nil {
			t.Fatal(err)
		}
		few = append(few, as...)
	}
	if len(all) < 5000 || !slices.Equal(keys(all), keys(few)) {
		t.Fatalf("advisories: %d in one call, %d fifty names at a time: not the same", len(all), len(few))
	}
	if err := st.Details(ctx, all); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(few); i += 500 {
		if err := st.Details(ctx, few[i:min(i+500, len(few))]); err != nil {
			t.Fatal(err)
		}
	}
	described := 0
	for _, a := range all {
		if a.Description != "" {
			described++
		}
	}
	if described < len(all)/2 || !slices.Equal(keys(all), keys(few)) {
		t.Errorf("details: %d of %d described; split and unsplit differ: %v", described, len(all), !slices.Equal(keys(all), keys(few)))
	}
}

// BenchMatch runs the sub-benchmarks "match" (mm, whose cache holds the
// image's advisories once it has matched) and "match-cold" (a new Matcher
// on st each time: nothing cached) of the image's report, CPU time
// beside wall time.
func BenchMatch(b *testing.B, st match.Store, mm *match.Matcher, ir *vuln.IndexReport) {
	ctx := context.Background()
	if _, err := mm.Match(ctx, ir); err != nil { // fills mm's cache
		b.Fatal(err)
	}
	for _, cold := range []bool{false, true} {
		name := "match"
		if cold {
			name = "match-cold"
		}
		Bench(b, name, 0, func() error {
			m := mm
			if cold {
				m = &match.Matcher{Store: st}
			}
			_, err := m.Match(ctx, ir)
			return err
		})
	}
}
