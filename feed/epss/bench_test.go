package epss_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/feed/epss"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// BenchmarkIngest stores a whole day of EPSS scores (FIRST's scores of
// 2021-08-31 for every CVE, which the shared data keeps in vuls' JSON form,
// written back as FIRST's CSV; that day's model had no percentile, so it
// is 0) into SQLite in one transaction: the full-size records/s of the
// enrichment store path.
func BenchmarkIngest(b *testing.B) {
	date, scores := sharedtest.EPSSDay(b)
	var csv bytes.Buffer
	fmt.Fprintf(&csv, "#model_version:v1,score_date:%s\ncve,epss,percentile\n", date)
	for _, d := range scores {
		fmt.Fprintf(&csv, "%s,%g,0\n", d.ID, d.EPSS)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(csv.Bytes())
	zw.Close()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "clair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f := epss.New()
	b.SetBytes(int64(csv.Len()))
	n := 0
	for b.Loop() {
		op, err := st.ReplaceEnrichments(context.Background(), "epss", "bench", func(emit func(*vuln.Enrichment) error) error {
			return f.ParseEnrichments(context.Background(), bytes.NewReader(gz.Bytes()), int64(gz.Len()), emit)
		})
		if err != nil {
			b.Fatal(err)
		}
		n += op.Advisories
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
