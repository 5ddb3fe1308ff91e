package bigreport

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/openclair/clair/feed/kev"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// Enrich adds to st (Load's data) what a deployment's enrichment feeds
// hold: EPSS scores of every CVE of the day (FIRST's 2021-08-31 scores, as
// vuls keeps them), CISA's whole KEV catalog, and a CVSS record for every
// CVE the image's report names (Log4Shell's NVD score standing in: NVD's
// bulk data is not in ../shared/testdata, and only the records' count and
// size matter here). It returns the report matched before, without them.
func Enrich(tb testing.TB, st store.Store) *vuln.VulnerabilityReport {
	tb.Helper()
	ctx := context.Background()
	plain, err := (&match.Matcher{Store: st}).Match(ctx, IndexReport(tb))
	if err != nil {
		tb.Fatal(err)
	}
	cvss := json.RawMessage(`{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","baseScore":10.0,"baseSeverity":"CRITICAL","attackVector":"NETWORK","attackComplexity":"LOW","privilegesRequired":"NONE","userInteraction":"NONE","scope":"CHANGED","confidentialityImpact":"HIGH","integrityImpact":"HIGH","availabilityImpact":"HIGH"}`)
	seen := map[string]bool{}
	if _, err := st.ReplaceEnrichments(ctx, "nvd", "bench", func(emit func(*vuln.Enrichment) error) error {
		for _, v := range plain.Vulnerabilities {
			if !vuln.IsCVE(v.Name) || seen[v.Name] {
				continue
			}
			seen[v.Name] = true
			if err := emit(&vuln.Enrichment{CVE: v.Name, CVSS: []vuln.CVSS{{Source: vuln.CVSSSourceNVD, Version: "3.1",
				Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10, Severity: "CRITICAL", Data: cvss}}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	date, scores := sharedtest.EPSSDay(tb)
	if _, err := st.ReplaceEnrichments(ctx, "epss", "bench", func(emit func(*vuln.Enrichment) error) error {
		dup := map[string]bool{}
		for _, d := range scores {
			if !vuln.IsCVE(d.ID) || dup[d.ID] {
				continue
			}
			dup[d.ID] = true
			if err := emit(&vuln.Enrichment{CVE: d.ID, EPSS: &vuln.EPSS{CVE: d.ID, EPSS: d.EPSS, Date: date, ModelVersion: "v1"}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	cat, err := os.Open(sharedtest.Path(tb, "feeds/kev/known_exploited_vulnerabilities.json"))
	if err != nil {
		tb.Fatal(err)
	}
	defer cat.Close()
	ci, _ := cat.Stat()
	if _, err := st.ReplaceEnrichments(ctx, "kev", "bench", func(emit func(*vuln.Enrichment) error) error {
		return kev.New().ParseEnrichments(ctx, cat, ci.Size(), emit)
	}); err != nil {
		tb.Fatal(err)
	}
	return plain
}
