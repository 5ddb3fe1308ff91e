package cli

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/store/sqlite"
)

// warmScanData writes the load test's 700-package image (10,275 findings)
// and a database holding the full Debian tracker feed, and, when enriched,
// what bigreport.Enrich loads (CVSS for every CVE of the report, a day of
// EPSS scores, the KEV catalog), as a default `clairctl scan`, which
// updates nvd, epss and kev, finds them. It returns the database and the
// image reference.
func warmScanData(b *testing.B, enriched bool) (db, img string) {
	dir := b.TempDir()
	img = bigreport.Archive(b, dir)
	url := bigreport.TrackerJSON(b, dir)
	db = filepath.Join(dir, "clair.db")
	if code := run(b.Context(), []string{"update", "-q", "--db", db, "--only", "debian", "--feed", "debian=" + url}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("update: exit %d", code)
	}
	if enriched {
		st, err := sqlite.Open(b.Context(), db)
		if err != nil {
			b.Fatal(err)
		}
		bigreport.Enrich(b, st)
		st.Close()
	}
	return db, img
}

// benchScan runs `clairctl scan` with args in process, warm: the image is
// indexed by a first run, and --skip-update.
func benchScan(b *testing.B, args ...string) {
	ctx := b.Context()
	if code := run(ctx, args, io.Discard, io.Discard); code != 0 {
		b.Fatalf("first scan: exit %d", code)
	}
	cpu := bigreport.CPU()
	for b.Loop() {
		if code := run(ctx, args, io.Discard, io.Discard); code != 0 {
			b.Fatalf("scan: exit %d", code)
		}
	}
	bigreport.ReportCPU(b, cpu)
}

// BenchmarkScanWarm runs a warm `clairctl scan` of the load test's
// 700-package image (10,275 findings) in process: image indexed, feed
// stored, --skip-update, table to a discarded stdout. tools/perf/scan.sh
// measures the same as whole processes, beside `clairctl --version`.
func BenchmarkScanWarm(b *testing.B) {
	db, img := warmScanData(b, false)
	benchScan(b, "scan", "-q", "--db", db, "--skip-update", img)
}

// BenchmarkScanWarmEnriched is BenchmarkScanWarm with enrichment data
// stored too (warmScanData), in the table, json and sarif formats.
// tools/perf/scan.sh --enriched measures the table as whole processes.
func BenchmarkScanWarmEnriched(b *testing.B) {
	db, img := warmScanData(b, true)
	for _, format := range []string{"table", "json", "sarif"} {
		b.Run(format, func(b *testing.B) {
			benchScan(b, "scan", "-q", "--db", db, "--skip-update", "--format", format, img)
		})
	}
}
