package nvd_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/feed/nvd"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// BenchmarkParse measures NVD parsing in bytes per second of uncompressed
// JSON (vunnel's real page of 41 CVEs), against the floor of a plain
// encoding/json decode of the same bytes into interface values.
func BenchmarkParse(b *testing.B) {
	doc := read(b, "feeds/samples-vunnel/nvd/full-page.json")
	b.Run("floor-json-decode", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.NewDecoder(bytes.NewReader(doc)).Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nvd", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if err := nvd.ParseFile(context.Background(), "page", bytes.NewReader(doc), map[string]struct{}{}, func(*vuln.Enrichment) error {
				n++
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	})
}

// BenchmarkIngest measures the whole update path past the download: a
// snapshot of real NVD files (the modified feed, a yearly feed, a page of
// 41 CVEs) parsed into a SQLite store in one transaction.
func BenchmarkIngest(b *testing.B) {
	var snap bytes.Buffer
	tw := tar.NewWriter(&snap)
	raw := 0
	for name, rel := range map[string]string{
		"nvdcve-2.0-modified.json.gz": "feeds/nvd/nvd-api2-CVE-2021-44228.json.gz",
		"nvdcve-2.0-2021.json.gz":     "feeds/nvd/nvdcve-2.0-2021-sample.json.gz",
		"nvdcve-2.0-2023.json":        "feeds/samples-vunnel/nvd/full-page.json",
		"nvdcve-2.0-2016.json":        "feeds/nvd/claircore-nvd-api2-sample.json",
	} {
		data := read(b, rel)
		raw += len(data)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	tw.Close()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "clair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f := nvd.New()
	b.SetBytes(int64(snap.Len()))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		op, err := st.ReplaceEnrichments(context.Background(), "nvd", "bench", func(emit func(*vuln.Enrichment) error) error {
			return f.ParseEnrichments(context.Background(), bytes.NewReader(snap.Bytes()), int64(snap.Len()), emit)
		})
		if err != nil {
			b.Fatal(err)
		}
		n += op.Advisories
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
