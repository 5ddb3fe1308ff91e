package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/reportjson"
)

// BenchmarkFirstReport breaks the first (uncached) vulnerability report of
// the load test's 700-package image down into its parts, beside a floor:
// copying the report's bytes.
func BenchmarkFirstReport(b *testing.B) {
	ctx := context.Background()
	st := bigreport.Store(b, b.TempDir())
	defer st.Close()
	ir := bigreport.IndexReport(b)
	mm := &match.Matcher{Store: st}
	vr, err := mm.Match(ctx, ir)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bigreport.EncodeStd(&buf, vr); err != nil {
		b.Fatal(err)
	}
	js := buf.Bytes()
	pairs := 0
	for _, v := range vr.PackageVulnerabilities {
		pairs += len(v)
	}
	b.Logf("%d packages, %d pairs, %d bytes", len(vr.Packages), pairs, len(js))

	bigreport.BenchCopy(b, "floor-copy", js)
	bigreport.BenchMatch(b, st, mm, ir)
	var out bytes.Buffer
	bigreport.Bench(b, "encode-encoding-json", len(js), func() error {
		out.Reset()
		return bigreport.EncodeStd(&out, vr)
	})
	bigreport.Bench(b, "encode-reportjson", len(js), func() error {
		out.Reset()
		return reportjson.Encode(&out, vr)
	})
	gzips := []struct {
		name string
		new  func(io.Writer) io.WriteCloser
	}{
		{"gzip-stdlib-bestspeed", func(w io.Writer) io.WriteCloser { zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed); return zw }},
		{"gzip-klauspost-bestspeed", func(w io.Writer) io.WriteCloser { zw, _ := kgzip.NewWriterLevel(w, kgzip.BestSpeed); return zw }},
	}
	for _, g := range gzips {
		bigreport.Bench(b, g.name, len(js), func() error {
			out.Reset()
			zw := g.new(&out)
			_, _ = zw.Write(js)
			return zw.Close()
		})
	}
	b.Run("gzip-newGzip", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		var out bytes.Buffer
		cpu := bigreport.CPU()
		for b.Loop() {
			out.Reset()
			zw := newGzip(&out)
			_, _ = zw.Write(js)
			_ = zw.Close()
		}
		bigreport.ReportCPU(b, cpu)
		b.ReportMetric(float64(out.Len())/float64(len(js)), "ratio")
	})
	for _, gz := range []bool{false, true} {
		name := "StreamReportJSON"
		if gz {
			name += "-gzip"
		}
		bigreport.Bench(b, name, 0, func() error {
			m := &Matcher{Reports: st, Match: mm, Feeds: st}
			_, err := m.StreamReportJSON(ctx, bigreport.Manifest, gz, func() io.Writer { return io.Discard })
			return err
		})
	}
	bigreport.Bench(b, "ReportJSON", 0, func() error {
		m := &Matcher{Reports: st, Match: mm, Feeds: st}
		_, err := m.ReportJSON(ctx, bigreport.Manifest)
		return err
	})
}
