package report_test

import (
	"encoding/json"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// TestEnrichmentsTypedAsJSON: a report made in this process carries its
// enrichments as typed maps, which the formats read as they are; the same
// report read back from JSON (as from a server) carries generic JSON. Both
// give the same rows and findings, on the 700-package image with CVSS,
// EPSS and KEV records (bigreport.Enrich).
func TestEnrichmentsTypedAsJSON(t *testing.T) {
	typed := enrichedReport(t)
	if _, ok := typed.Enrichments[vuln.CVSSEnrichment][0].(map[string][]json.RawMessage); !ok {
		t.Fatalf("the matcher's CVSS enrichment is a %T", typed.Enrichments[vuln.CVSSEnrichment][0])
	}
	b, err := json.Marshal(typed)
	if err != nil {
		t.Fatal(err)
	}
	var generic vuln.VulnerabilityReport
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	tr, gr := report.Rows(typed), report.Rows(&generic)
	var cvss, epss, kev int
	for i := range tr {
		a, g := tr[i], gr[i]
		if a.Vuln.ID != g.Vuln.ID || a.Package.ID != g.Package.ID || a.CVSS != g.CVSS || a.HasCVSS != g.HasCVSS ||
			a.EPSS != g.EPSS || a.HasEPSS != g.HasEPSS || (a.KEV == nil) != (g.KEV == nil) || (a.KEV != nil && *a.KEV != *g.KEV) {
			t.Fatalf("row %d: typed %+v, from JSON %+v", i, a, g)
		}
		if a.HasCVSS {
			cvss++
		}
		if a.HasEPSS {
			epss++
		}
		if a.KEV != nil {
			kev++
		}
	}
	t.Logf("%d rows: %d with CVSS, %d with EPSS, %d in KEV", len(tr), cvss, epss, kev)
	if len(tr) < 10000 || cvss < len(tr)/2 || epss == 0 || kev == 0 {
		t.Fatalf("%d rows, %d with CVSS, %d with EPSS, %d in KEV: the enrichments are not exercised", len(tr), cvss, epss, kev)
	}
	ta, _ := report.Findings(&report.Document{Report: typed})
	ga, _ := report.Findings(&report.Document{Report: &generic})
	for i := range ta {
		if (ta[i].CVSS == nil) != (ga[i].CVSS == nil) || (ta[i].CVSS != nil && *ta[i].CVSS != *ga[i].CVSS) {
			t.Fatalf("finding %d: typed CVSS %+v, from JSON %+v", i, ta[i].CVSS, ga[i].CVSS)
		}
	}
}

// enrichedReport is the 700-package image's report as the matcher makes
// it, with the CVSS, EPSS and KEV records of bigreport.Enrich.
func enrichedReport(t *testing.T) *vuln.VulnerabilityReport {
	t.Helper()
	st := bigreport.Store(t, t.TempDir())
	defer st.Close()
	bigreport.Enrich(t, st)
	vr, err := (&match.Matcher{Store: st}).Match(t.Context(), bigreport.IndexReport(t))
	if err != nil {
		t.Fatal(err)
	}
	return vr
}
