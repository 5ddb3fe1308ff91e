package report_test

import (
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/internal/reporttest"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

var bench struct {
	once   sync.Once
	doc    *report.Document
	jsonNs float64
	err    error
}

// benchDoc is the 700-package Debian image's report against the full
// Debian tracker with CVSS enrichment, and the time report.JSON takes on
// it: the floor every format is measured against.
func benchDoc(b *testing.B) (*report.Document, float64) {
	sharedtest.Path(b, "feeds/debian/tracker-json-from-osv.json.gz")
	bench.once.Do(func() {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(tmpRoot, "bench.db"))
		if err != nil {
			bench.err = err
			return
		}
		defer st.Close()
		var vr *vuln.VulnerabilityReport
		vr, bench.err = reporttest.FullDebian(ctx, st, 700)
		if bench.err != nil {
			return
		}
		bench.doc = &report.Document{Report: vr, Image: "bench:700", Started: time.Now()}
		bench.jsonNs = jsonFloor(vr, 10)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.doc, bench.jsonNs
}

// BenchmarkFormats renders the 700-package report in every format; each
// reports its time as a multiple of report.JSON's on the same report
// ("x-json") and the findings it holds.
func BenchmarkFormats(b *testing.B) {
	d, floor := benchDoc(b)
	for _, format := range []string{"json", "table", "html", "sarif", "cyclonedx", "spdx", "cosign-vuln"} {
		b.Run(format, func(b *testing.B) {
			// The floor again right before, so that the ratio compares
			// runs under the same load: this machine is shared.
			floor := min(floor, jsonFloor(d.Report, 3))
			cpuFloor := jsonCPU(d.Report, 3)
			b.ReportAllocs()
			start, cpu0 := time.Now(), cpuTime()
			n := 0
			for b.Loop() {
				if err := report.WriteDocument(io.Discard, format, d); err != nil {
					b.Fatal(err)
				}
				n++
			}
			cpu := float64((cpuTime() - cpu0).Nanoseconds()) / float64(n)
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n)/floor, "x-json")
			// CPU time (this process's, garbage collection included) is
			// steadier than the wall clock on a loaded machine.
			b.ReportMetric(cpu/1e6, "cpu-ms/op")
			if cpuFloor > 0 {
				b.ReportMetric(cpu/cpuFloor, "x-json-cpu")
			}
			b.ReportMetric(float64(len(report.Rows(d.Report))), "findings")
			b.ReportMetric(float64(len(d.Report.Packages)), "packages")
		})
	}
	b.Run("sbom-cyclonedx", func(b *testing.B) {
		ir := &vuln.IndexReport{ManifestHash: d.Report.ManifestHash, Packages: d.Report.Packages, Distributions: d.Report.Distributions, Environments: d.Report.Environments}
		for b.Loop() {
			if err := report.WriteSBOM(io.Discard, "cyclonedx", ir, "bench:700"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// jsonFloor times report.JSON on vr, the best of n runs (timed here rather
// than with testing.Benchmark, which must not run inside a running
// benchmark), so that a scheduling hiccup does not flatter every format.
func jsonFloor(vr *vuln.VulnerabilityReport, n int) float64 {
	best := time.Duration(1<<63 - 1)
	for range n {
		start := time.Now()
		if err := report.JSON(io.Discard, vr); err != nil {
			panic(err)
		}
		best = min(best, time.Since(start))
	}
	return float64(best.Nanoseconds())
}

// jsonCPU is report.JSON's CPU time on vr, the least of n runs.
func jsonCPU(vr *vuln.VulnerabilityReport, n int) float64 {
	best := time.Duration(1<<63 - 1)
	for range n {
		c0 := cpuTime()
		if err := report.JSON(io.Discard, vr); err != nil {
			panic(err)
		}
		best = min(best, cpuTime()-c0)
	}
	return float64(best.Nanoseconds())
}
