package match_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/feed/kev"
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

// BenchmarkMatchEnrichment matches the 700-package Debian image of
// BenchmarkMatchFullDebian warm, without and with enrichment. The store
// holds EPSS scores of every CVE of the day (FIRST's 2021-08-31 scores, as
// vuls keeps them), CISA's whole KEV catalog, and a CVSS record for every
// CVE of the report (Log4Shell's NVD score standing in: only the records'
// count and size matter here).
func BenchmarkMatchEnrichment(b *testing.B) {
	tracker := filepath.Join(shared, "feeds/debian/tracker-json-from-osv.json.gz")
	if _, err := os.Stat(tracker); err != nil {
		b.Skip("../shared/testdata is absent: the full-size tracker JSON is needed")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "clair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	snap := filepath.Join(b.TempDir(), "tracker.json")
	if err := gunzip(tracker, snap); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(snap)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if _, err := st.ReplaceFeed(ctx, "debian", "bench", func(emit func(*vuln.Advisory) error) error {
		return debian.New().Parse(ctx, f, fi.Size(), func(a *vuln.Advisory) error { a.Feed = "debian"; return emit(a) })
	}); err != nil {
		b.Fatal(err)
	}
	pkgs := realDebianPackages(b, 700)
	ir := &vuln.IndexReport{
		ManifestHash:  "sha256:bench",
		Packages:      pkgs,
		Distributions: map[string]*vuln.Distribution{"1": {ID: "1", DID: "debian", VersionID: "12", VersionCodeName: "bookworm"}},
		Environments:  map[string][]*vuln.Environment{},
	}
	ids := make([]string, 0, len(pkgs))
	for id := range pkgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ir.Environments[id] = []*vuln.Environment{{PackageDB: "var/lib/dpkg/status", DistributionID: "1"}}
	}
	plain, err := (&match.Matcher{Store: noEnrich{st}}).Match(ctx, ir)
	if err != nil {
		b.Fatal(err)
	}
	loadEnrichments(b, st, plain)

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

func loadEnrichments(b *testing.B, st *sqlite.Store, vr *vuln.VulnerabilityReport) {
	ctx := context.Background()
	cvss := json.RawMessage(`{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","baseScore":10.0,"baseSeverity":"CRITICAL","attackVector":"NETWORK","attackComplexity":"LOW","privilegesRequired":"NONE","userInteraction":"NONE","scope":"CHANGED","confidentialityImpact":"HIGH","integrityImpact":"HIGH","availabilityImpact":"HIGH"}`)
	seen := map[string]bool{}
	if _, err := st.ReplaceEnrichments(ctx, "nvd", "bench", func(emit func(*vuln.Enrichment) error) error {
		for _, v := range vr.Vulnerabilities {
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
		b.Fatal(err)
	}
	fh, err := os.Open(filepath.Join(shared, "feeds/epss/epss-2021-08-31.vuls-json.gz"))
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		b.Fatal(err)
	}
	var day struct {
		Date string `json:"score_date"`
		Data []struct {
			ID   string  `json:"id"`
			EPSS float64 `json:"epss"`
		} `json:"data"`
	}
	if err := json.NewDecoder(zr).Decode(&day); err != nil {
		b.Fatal(err)
	}
	if _, err := st.ReplaceEnrichments(ctx, "epss", "bench", func(emit func(*vuln.Enrichment) error) error {
		dup := map[string]bool{}
		for _, d := range day.Data {
			if !vuln.IsCVE(d.ID) || dup[d.ID] {
				continue
			}
			dup[d.ID] = true
			if err := emit(&vuln.Enrichment{CVE: d.ID, EPSS: &vuln.EPSS{CVE: d.ID, EPSS: d.EPSS, Date: day.Date, ModelVersion: "v1"}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	cat, err := os.Open(filepath.Join(shared, "feeds/kev/known_exploited_vulnerabilities.json"))
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	ci, _ := cat.Stat()
	if _, err := st.ReplaceEnrichments(ctx, "kev", "bench", func(emit func(*vuln.Enrichment) error) error {
		return kev.New().ParseEnrichments(ctx, cat, ci.Size(), emit)
	}); err != nil {
		b.Fatal(err)
	}
}
