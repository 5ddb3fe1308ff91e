package postgres

import (
	"context"
	"io"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/service"
)

// BenchmarkFirstReport is service's BenchmarkFirstReport on PostgreSQL:
// the load test's 700-package image against the full Debian tracker, its
// first (uncached) report matched by a new Matcher (match-cold) and
// matched and encoded as the API serves it (first-report), beside the
// floor of matching with every advisory cached (match).
func BenchmarkFirstReport(b *testing.B) {
	ctx := context.Background()
	st, err := OpenConfig(ctx, testSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	bigreport.Load(b, st, b.TempDir())
	ir := bigreport.IndexReport(b)
	bigreport.BenchMatch(b, st, &match.Matcher{Store: st}, ir)
	bigreport.Bench(b, "first-report", 0, func() error {
		m := &service.Matcher{Reports: st, Match: &match.Matcher{Store: st}, Feeds: st}
		_, err := m.StreamReportJSON(ctx, bigreport.Manifest, false, func() io.Writer { return io.Discard })
		return err
	})
}
