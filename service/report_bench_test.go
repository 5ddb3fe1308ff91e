package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
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
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vr); err != nil {
		b.Fatal(err)
	}
	js := buf.Bytes()
	pairs := 0
	for _, v := range vr.PackageVulnerabilities {
		pairs += len(v)
	}
	b.Logf("%d packages, %d pairs, %d bytes", len(vr.Packages), pairs, len(js))

	b.Run("floor-copy", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		dst := make([]byte, 0, len(js))
		cpu := bigreport.CPU()
		for b.Loop() {
			dst = append(dst[:0], js...)
		}
		bigreport.ReportCPU(b, cpu)
	})
	bigreport.BenchMatch(b, st, mm, ir)
	b.Run("encode-encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		var out bytes.Buffer
		cpu := bigreport.CPU()
		for b.Loop() {
			out.Reset()
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(vr); err != nil {
				b.Fatal(err)
			}
		}
		bigreport.ReportCPU(b, cpu)
	})
	b.Run("gzip-stdlib-bestspeed", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		var out bytes.Buffer
		cpu := bigreport.CPU()
		for b.Loop() {
			out.Reset()
			zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
			_, _ = zw.Write(js)
			_ = zw.Close()
		}
		bigreport.ReportCPU(b, cpu)
	})
	b.Run("encode-reportjson", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		var out bytes.Buffer
		cpu := bigreport.CPU()
		for b.Loop() {
			out.Reset()
			if err := reportjson.Encode(&out, vr); err != nil {
				b.Fatal(err)
			}
		}
		bigreport.ReportCPU(b, cpu)
	})
	b.Run("gzip-klauspost-bestspeed", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		var out bytes.Buffer
		cpu := bigreport.CPU()
		for b.Loop() {
			out.Reset()
			zw, _ := kgzip.NewWriterLevel(&out, kgzip.BestSpeed)
			_, _ = zw.Write(js)
			_ = zw.Close()
		}
		bigreport.ReportCPU(b, cpu)
	})
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
		b.Run(name, func(b *testing.B) {
			cpu := bigreport.CPU()
			for b.Loop() {
				m := &Matcher{Reports: st, Match: mm, Feeds: st}
				if _, err := m.StreamReportJSON(ctx, bigreport.Manifest, gz, func() io.Writer { return io.Discard }); err != nil {
					b.Fatal(err)
				}
			}
			bigreport.ReportCPU(b, cpu)
		})
	}
	b.Run("ReportJSON", func(b *testing.B) {
		cpu := bigreport.CPU()
		for b.Loop() {
			m := &Matcher{Reports: st, Match: mm, Feeds: st}
			if _, err := m.ReportJSON(ctx, bigreport.Manifest); err != nil {
				b.Fatal(err)
			}
		}
		bigreport.ReportCPU(b, cpu)
	})
}
