package match

import (
	"context"
	"strconv"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// fixedGenStore is enrichStore with a fixed generation, so the matcher caches.
type fixedGenStore struct{ *enrichStore }

func (fixedGenStore) FeedStates(context.Context) ([]store.FeedState, error) {
	return []store.FeedState{{Feed: "nvd", Operation: "1"}}, nil
}

// BenchmarkEnrichStep times what enrichment adds to a warm match: the
// enrich step over a report of 6,784 vulnerabilities (the size of the
// 700-package Debian report of BenchmarkMatchEnrichment), each a real CVE
// id of FIRST's 2021-08-31 EPSS scores with its score, a CVSS record, and
// CISA's KEV entry where it has one. The floor is the step on a store
// without enrichment records (severity sources only).
func BenchmarkEnrichStep(b *testing.B) {
	_, scores := sharedtest.EPSSDay(b)
	const n = 6784
	st := &enrichStore{memStore: &memStore{}}
	vr := &vuln.VulnerabilityReport{Vulnerabilities: map[string]*vuln.Vulnerability{}, Enrichments: map[string][]any{}}
	for i, d := range scores[:n] {
		id := strconv.Itoa(i)
		vr.Vulnerabilities[id] = &vuln.Vulnerability{ID: id, Name: d.ID, Updater: "debian", NormalizedSeverity: vuln.Severity(i % 6)}
		st.recs = append(st.recs,
			&vuln.Enrichment{Feed: "epss", CVE: d.ID, EPSS: &vuln.EPSS{CVE: d.ID, EPSS: d.EPSS}},
			&vuln.Enrichment{Feed: "nvd", CVE: d.ID, CVSS: []vuln.CVSS{cvss(vuln.CVSSSourceNVD, log4shellNVD)}})
		if i%50 == 0 {
			st.recs = append(st.recs, &vuln.Enrichment{Feed: "kev", CVE: d.ID, KEV: &vuln.KEV{CVE: d.ID}})
		}
	}
	for _, tc := range []struct {
		name string
		m    *Matcher
	}{
		{"floor-no-records", &Matcher{Store: &memStore{}}},
		{"enriched", &Matcher{Store: fixedGenStore{st}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			if err := tc.m.enrich(ctx, vr); err != nil { // warm
				b.Fatal(err)
			}
			for b.Loop() {
				if err := tc.m.enrich(ctx, vr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
