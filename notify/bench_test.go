package notify_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/apk"
	"github.com/openclair/clair/scanner/dpkg"
	"github.com/openclair/clair/store/postgres"
	"github.com/openclair/clair/vuln"
)

// benchEnv sets how many manifests BenchmarkCompute indexes (default
// 2,000; the measurement is 100,000). The schema it fills is kept
// (notifybench_<n>) so that a second run measures without the set-up.
const benchEnv = "CLAIR_NOTIFY_BENCH_MANIFESTS"

// realPackages reads real package databases of the shared test data.
func realPackages(tb testing.TB, sc scanner.Scanner, path string, files ...string) []*vuln.Package {
	tb.Helper()
	seen := map[string]bool{}
	var out []*vuln.Package
	for _, f := range files {
		fh, err := os.Open(sharedPath(tb, f))
		if err != nil {
			tb.Fatal(err)
		}
		res, err := sc.Scan(context.Background(), scanner.File{Path: path, R: fh})
		fh.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		for _, p := range res.Packages {
			k := p.Name + " " + p.Version
			if !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	return out
}

type benchDistro struct {
	dist *vuln.Distribution
	pool []*vuln.Package
	size int // packages per image
}

// syntheticReport draws an image of the distribution: size packages of the
// real pool, their real versions.
func syntheticReport(r *rand.Rand, i int, d *benchDistro) *vuln.IndexReport {
	ir := &vuln.IndexReport{
		ManifestHash:  fmt.Sprintf("sha256:%064x", i),
		State:         vuln.IndexFinished,
		Success:       true,
		Packages:      map[string]*vuln.Package{},
		Distributions: map[string]*vuln.Distribution{"1": d.dist},
		Environments:  map[string][]*vuln.Environment{},
	}
	for _, j := range r.Perm(len(d.pool))[:min(d.size, len(d.pool))] {
		p := *d.pool[j]
		p.ID = strconv.Itoa(j)
		ir.Packages[p.ID] = &p
		ir.Environments[p.ID] = []*vuln.Environment{{PackageDB: p.PackageDB, DistributionID: "1", IntroducedIn: "sha256:layer"}}
	}
	return ir
}

// BenchmarkCompute: N manifests indexed in PostgreSQL (package sets drawn
// from the real Debian, Ubuntu and Alpine package lists), the real Debian
// tracker's advisories for those packages, and an update that adds 1,000
// of them. One op is one Compute of that update. Reported: the candidates'
// index rows, the notifications, and peak RSS during the op (VmHWM after a
// reset), beside the floor of reading the same index rows alone.
//
// Measured 2026-12-02 on a shared 2-core machine (wall times depend on its
// load; CPU times are this process's, PostgreSQL's not included):
//
//	manifests  distinct fragments  candidates  index rows  compute CPU  wall    floor wall  peak RSS
//	2,000      976                 1,000       38,515      0.51 s       0.85 s  0.14 s      184 MB
//	100,000    1,006               50,000      1,933,165   2.66 s       33.6 s  43.0 s      238 MB
//
// The floor is reading the candidates' index rows alone. CPU follows the
// distinct fragments under the changed keys (evaluated once each) plus the
// affected (manifest, key) rows, which here are every Debian image's; wall
// time at 100,000 is PostgreSQL reading those 1.9 million rows.
func BenchmarkCompute(b *testing.B) {
	n := 2000
	if v := os.Getenv(benchEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("%s=%q", benchEnv, v)
		}
	}
	ctx := context.Background()
	debPool := realPackages(b, &dpkg.Scanner{}, "var/lib/dpkg/status",
		"pkgdb/rootfs/debian-12-python3.12-slim-langflow/var/lib/dpkg/status",
		"pkgdb/rootfs/debian-11-nginx/var/lib/dpkg/status",
		"pkgdb/dpkg/claircore-texlive.status", "pkgdb/dpkg/claircore-postgresql.status",
		"pkgdb/dpkg/claircore-debian-only.status", "pkgdb/dpkg/claircore-vcpkg.status")
	ubuPool := realPackages(b, &dpkg.Scanner{}, "var/lib/dpkg/status",
		"pkgdb/rootfs/ubuntu-20.04-base-industio/var/lib/dpkg/status", "pkgdb/dpkg/trivy-ubuntu-status")
	alpPool := realPackages(b, &apk.Scanner{}, apk.InstalledPath,
		"pkgdb/rootfs/alpine-3.14-minirootfs/lib/apk/db/installed", "pkgdb/apk/trivy-alpine-installed", "pkgdb/apk/syft-multiple-2-installed")
	distros := []*benchDistro{
		{&vuln.Distribution{ID: "1", DID: "debian", VersionID: "12", VersionCodeName: "bookworm", Name: "Debian GNU/Linux"}, debPool, 200},
		{&vuln.Distribution{ID: "1", DID: "debian", VersionID: "11", VersionCodeName: "bullseye", Name: "Debian GNU/Linux"}, debPool, 200},
		{&vuln.Distribution{ID: "1", DID: "ubuntu", VersionID: "20.04", VersionCodeName: "focal", Name: "Ubuntu"}, ubuPool, 200},
		{&vuln.Distribution{ID: "1", DID: "alpine", VersionID: "3.14.2", Name: "Alpine Linux"}, alpPool, 40},
	}
	b.Logf("real package pools: debian %d, ubuntu %d, alpine %d", len(debPool), len(ubuPool), len(alpPool))

	schema := fmt.Sprintf("notifybench_%d", n)
	conn, err := pgx.Connect(ctx, pgConn())
	if err != nil {
		b.Skipf("PostgreSQL unreachable: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		b.Fatal(err)
	}
	st, err := postgres.Open(ctx, pgConn()+" search_path="+schema)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := conn.Exec(ctx, "SET search_path = "+schema); err != nil {
		b.Fatal(err)
	}

	var have int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM index_report").Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have != n {
		start := time.Now()
		if _, err := conn.Exec(ctx, "TRUNCATE index_report, manifest_index, index_fragment, feed, update_operation CASCADE"); err != nil {
			b.Fatal(err)
		}
		// Bulk: COPY of exactly the rows PutIndexReport writes
		// (match.Fragments); the report bodies are left small, since
		// Compute never reads them (that is the index's point).
		r := rand.New(rand.NewPCG(1, 2))
		seenFrag := map[string]bool{}
		const batch = 1000
		for lo := 0; lo < n; lo += batch {
			var reports, frags, data [][]any
			for i := lo; i < min(n, lo+batch); i++ {
				ir := syntheticReport(r, i, distros[i%len(distros)])
				reports = append(reports, []any{ir.ManifestHash, []byte(`{"manifest_hash":"` + ir.ManifestHash + `"}`), int64(0)})
				for k, f := range match.Fragments(ir) {
					fb, _ := json.Marshal(f)
					sum := sha256.Sum256(fb)
					h := hex.EncodeToString(sum[:])
					if !seenFrag[h] {
						seenFrag[h] = true
						data = append(data, []any{h, fb})
					}
					frags = append(frags, []any{k.Namespace, k.Name, ir.ManifestHash, h})
				}
			}
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"index_fragment"}, []string{"hash", "data"}, pgx.CopyFromRows(data)); err != nil {
				b.Fatal(err)
			}
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"index_report"}, []string{"manifest", "data", "updated_at"}, pgx.CopyFromRows(reports)); err != nil {
				b.Fatal(err)
			}
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"manifest_index"}, []string{"namespace", "name", "manifest", "fragment"}, pgx.CopyFromRows(frags)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
		b.Logf("indexed %d manifests in %s", n, time.Since(start).Round(time.Second))
	}
	var rows, frags, bytes int64
	conn.QueryRow(ctx, "SELECT count(*) FROM manifest_index").Scan(&rows)
	conn.QueryRow(ctx, "SELECT count(*), coalesce(sum(length(data)), 0) FROM index_fragment").Scan(&frags, &bytes)
	b.Logf("manifest_index: %d rows; %d distinct fragments, %d MB", rows, frags, bytes>>20)

	// The feed: the real Debian tracker's advisories for the pool's
	// packages; the update adds 1,000 of them.
	ops, err := st.UpdateOperations(ctx, "debian")
	if err != nil {
		b.Fatal(err)
	}
	var prev, cur string
	if len(ops["debian"]) >= 2 {
		cur, prev = ops["debian"][0].ID, ops["debian"][1].ID
	} else {
		pkgs := map[string]*vuln.Package{}
		for i, p := range debPool {
			pkgs[strconv.Itoa(i)] = p
		}
		full := debianAdvisories(b, []*vuln.IndexReport{{Packages: pkgs}})
		var deb []*vuln.Advisory
		for _, a := range full {
			if a.Namespace == "debian:11" || a.Namespace == "debian:12" {
				deb = append(deb, a)
			}
		}
		if len(deb) < 2000 {
			b.Fatalf("only %d Debian advisories for the pool", len(deb))
		}
		r := rand.New(rand.NewPCG(3, 4))
		withheld := map[int]bool{}
		for _, i := range r.Perm(len(deb))[:1000] {
			withheld[i] = true
		}
		var old []*vuln.Advisory
		for i, a := range deb {
			if !withheld[i] {
				old = append(old, a)
			}
		}
		prev = replace(b, st, "debian", "old", old).ID
		cur = replace(b, st, "debian", "new", deb).ID
		b.Logf("debian feed: %d advisories, the update adds 1000", len(deb))
	}
	d, err := st.UpdateDiff(ctx, prev, cur)
	if err != nil || len(d.Added) != 1000 || len(d.Removed) != 0 {
		b.Fatalf("diff: %d added, %d removed, %v", len(d.Added), len(d.Removed), err)
	}

	// The floor: reading the candidates' index rows, nothing else.
	keys := map[match.Key]bool{}
	for _, a := range d.Added {
		for _, ns := range match.ImageNamespaces(a.Namespace) {
			keys[match.Key{Namespace: ns, Name: a.Package}] = true
		}
	}
	var klist []match.Key
	for k := range keys {
		klist = append(klist, k)
	}
	floorStart, floorCPU := time.Now(), cpuTime()
	var cand int
	manifests := map[string]bool{}
	var hashes []string
	if err := st.IndexedFragments(ctx, klist, func(h string, _ []byte) error {
		hashes = append(hashes, h)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if err := st.FragmentManifests(ctx, klist, hashes, func(m, _ string) error {
		cand++
		manifests[m] = true
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	floor, floorCPU := time.Since(floorStart), cpuTime()-floorCPU

	var ns []notify.Notification
	var peak int64
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		resetPeak()
		c0 := cpuTime()
		ns, err = notify.Compute(ctx, st, prev, cur, true)
		cpu += cpuTime() - c0
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, peakRSS())
	}
	b.StopTimer()
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(len(manifests)), "candidates")
	b.ReportMetric(float64(cand), "index-rows")
	b.ReportMetric(float64(len(ns)), "notifications")
	b.ReportMetric(float64(peak>>20), "peak-MB")
	cpuOp := cpu / time.Duration(b.N)
	b.ReportMetric(cpuOp.Seconds(), "cpu-s/op")
	b.ReportMetric(float64(perOp)/float64(floor), "x-floor")
	b.ReportMetric(float64(cpuOp)/float64(max(floorCPU, time.Millisecond)), "cpu-x-floor")
	// The machine may be shared: CPU time is the cost; wall time the
	// latency under whatever load there was.
	b.Logf("%d distinct fragments under the changed keys", len(hashes))
	b.Logf("%d manifests, %d changed keys: %d candidates (%d index rows, read alone in %s, %s CPU); compute %s wall, %s CPU, %d notifications, peak RSS %d MB, GOMAXPROCS %d",
		n, len(klist), len(manifests), cand, floor.Round(time.Millisecond), floorCPU.Round(time.Millisecond), perOp.Round(time.Millisecond), cpuOp.Round(time.Millisecond), len(ns), peak>>20, runtime.GOMAXPROCS(0))
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeak resets the process's peak RSS (Linux: clear_refs 5).
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak RSS in bytes (VmHWM), 0 where unknown.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
