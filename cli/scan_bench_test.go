package cli

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/store/sqlite"
)

// BenchmarkScanWarm runs a warm `clairctl scan` of the load test's
// 700-package image (10,275 findings) in process: image indexed, feed
// stored, --skip-update, table to a discarded stdout. tools/perf/scan.sh
// measures the same as whole processes, beside `clairctl --version`.
func BenchmarkScanWarm(b *testing.B) {
	dir := b.TempDir()
	img := bigreport.Archive(b, dir)
	url := bigreport.TrackerJSON(b, dir)
	db := filepath.Join(dir, "clair.db")
	ctx := b.Context()
	if code := run(ctx, []string{"update", "-q", "--db", db, "--only", "debian", "--feed", "debian=" + url}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("update: exit %d", code)
	}
	args := []string{"scan", "-q", "--db", db, "--skip-update", img}
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

// BenchmarkScanWarmEnriched is BenchmarkScanWarm with what a deployment's
// enrichment feeds hold as well (bigreport.Enrich: CVSS for every CVE of
// the report, a day of EPSS scores, the KEV catalog), as a default
// `clairctl scan`, which updates nvd, epss and kev, finds them.
func BenchmarkScanWarmEnriched(b *testing.B) {
	dir := b.TempDir()
	img := bigreport.Archive(b, dir)
	url := bigreport.TrackerJSON(b, dir)
	db := filepath.Join(dir, "clair.db")
	ctx := b.Context()
	if code := run(ctx, []string{"update", "-q", "--db", db, "--only", "debian", "--feed", "debian=" + url}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("update: exit %d", code)
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	bigreport.Enrich(b, st)
	st.Close()
	for _, format := range []string{"table", "json", "sarif"} {
		b.Run(format, func(b *testing.B) {
			args := []string{"scan", "-q", "--db", db, "--skip-update", "--format", format, img}
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
		})
	}
}
