package cli

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
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
