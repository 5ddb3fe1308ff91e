package match_test

import (
	"context"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// noEnrich hides the store's enrichment records from the matcher (and
// keeps its generation check, so both runs use the advisory cache alike).
type noEnrich struct{ st *sqlite.Store }

func (n noEnrich) Advisories(ctx context.Context, ns string, p []string) ([]*vuln.Advisory, error) {
	return n.st.Advisories(ctx, ns, p)
}
func (n noEnrich) Details(ctx context.Context, a []*vuln.Advisory) error { return n.st.Details(ctx, a) }
func (n noEnrich) FeedStates(ctx context.Context) ([]store.FeedState, error) {
	return n.st.FeedStates(ctx)
}

// BenchmarkMatchEnrichment matches the load test's 700-package image
// warm, without and with enrichment: the store holds what
// bigreport.Enrich loads (EPSS scores of every CVE of FIRST's 2021-08-31
// scores, CISA's whole KEV catalog, and a CVSS record for every CVE of the
// report).
func BenchmarkMatchEnrichment(b *testing.B) {
	ctx := context.Background()
	st := bigreport.Store(b, b.TempDir())
	defer st.Close()
	bigreport.Enrich(b, st)
	ir := bigreport.IndexReport(b)
	for _, tc := range []struct {
		name string
		m    *match.Matcher
	}{
		{"plain", &match.Matcher{Store: noEnrich{st}}},
		{"enriched", &match.Matcher{Store: st}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			vr, err := tc.m.Match(ctx, ir) // warm
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(vr.Vulnerabilities)), "vulns")
			b.ReportMetric(float64(len(vr.Enrichments)), "enrichment-keys")
			for b.Loop() {
				if _, err := tc.m.Match(ctx, ir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
