package match

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openclair/clair/store"
	_ "github.com/openclair/clair/version/semver"
	"github.com/openclair/clair/vuln"
)

// enrichStore adds enrichment records to memStore, and aliases to its
// details.
type enrichStore struct {
	*memStore
	recs  []*vuln.Enrichment
	calls int
}

func (s *enrichStore) Details(ctx context.Context, advs []*vuln.Advisory) error {
	for _, a := range advs {
		for _, b := range s.advs {
			if a.Feed == b.Feed && a.Name == b.Name {
				a.Aliases = b.Aliases
			}
		}
	}
	return s.memStore.Details(ctx, advs)
}

func (s *enrichStore) Enrichments(_ context.Context, cves []string) ([]*vuln.Enrichment, error) {
	s.calls++
	var out []*vuln.Enrichment
	for _, e := range s.recs {
		for _, c := range cves {
			if strings.EqualFold(c, e.CVE) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// The CVSS objects of real records: NVD's of CVE-2021-44228, CISA-ADP's
// of CVE-2024-9143.
const (
	log4shellNVD = `{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","baseScore":10.0,"baseSeverity":"CRITICAL"}`
	opensslADP   = `{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N","baseScore":4.3,"baseSeverity":"MEDIUM"}`
)

func cvss(src, data string) vuln.CVSS {
	var d struct {
		Version, VectorString, BaseSeverity string
		BaseScore                           float64
	}
	json.Unmarshal([]byte(data), &d)
	return vuln.CVSS{Source: src, Version: d.Version, Vector: d.VectorString, Score: d.BaseScore, Severity: d.BaseSeverity, Data: json.RawMessage(data)}
}

// TestEnrichSeverityFallback: an advisory without severity takes the
// preferred CVSS base severity (CISA-ADP's over the CNA's), one with a
// severity keeps it; both carry the clair.cvss enrichment; a GHSA is looked
// up by its CVE alias and gets EPSS and KEV; the per-package order follows
// the new severities.
func TestEnrichSeverityFallback(t *testing.T) {
	ssl := &vuln.Package{Name: "libssl3", Version: "3.1.7-r0", Ecosystem: "apk", Source: &vuln.Package{Name: "openssl", Version: "3.1.7-r0"}}
	ir := debianReport(ssl)
	ir.Distributions["1"] = &vuln.Distribution{ID: "1", DID: "alpine", VersionID: "3.18.9"}
	ir.Packages["g"] = &vuln.Package{ID: "g", Name: "github.com/example/log", Version: "v1.0.0", Ecosystem: "go"}
	st := &enrichStore{memStore: &memStore{advs: []*vuln.Advisory{
		{Feed: "alpine", Name: "CVE-2024-9143", Namespace: "alpine:v3.18", Package: "openssl", VersionFormat: "apk", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "3.1.7-r1"}}, FixedIn: "3.1.7-r1"},
		{Feed: "alpine", Name: "CVE-2021-44228", Namespace: "alpine:v3.18", Package: "openssl", VersionFormat: "apk", State: vuln.StateUnfixed, NormalizedSeverity: vuln.Low, Severity: "low"},
		{Feed: "osv", Name: "GHSA-jfh8-c2jp-5v3q", Namespace: "go", Package: "github.com/example/log", VersionFormat: "semver", State: vuln.StateAffected,
			Ranges: []vuln.Range{{Introduced: "0", Fixed: "v1.1.0"}}, FixedIn: "v1.1.0", Aliases: []string{"CVE-2021-44228"}},
	}}, recs: []*vuln.Enrichment{
		{Feed: "cvelist", CVE: "CVE-2024-9143", CVSS: []vuln.CVSS{cvss(vuln.CVSSSourceCISAADP, opensslADP)}},
		// Log4Shell's score standing in for a CNA's CRITICAL: CISA-ADP's wins.
		{Feed: "nvd", CVE: "CVE-2024-9143", CVSS: []vuln.CVSS{cvss(vuln.CVSSSourceCNA, log4shellNVD)}},
		{Feed: "nvd", CVE: "CVE-2021-44228", CVSS: []vuln.CVSS{cvss(vuln.CVSSSourceNVD, log4shellNVD)}},
		{Feed: "epss", CVE: "CVE-2021-44228", EPSS: &vuln.EPSS{CVE: "CVE-2021-44228", EPSS: 0.94358, Percentile: 0.99957, Date: "2024-10-25"}},
		{Feed: "kev", CVE: "CVE-2021-44228", KEV: &vuln.KEV{CVE: "CVE-2021-44228", DateAdded: "2021-12-10", KnownRansomwareCampaignUse: "Known"}},
	}}
	m := &Matcher{Store: st}
	vr, err := m.Match(context.Background(), ir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*vuln.Vulnerability{}
	for _, v := range vr.Vulnerabilities {
		byName[v.Name] = v
	}
	for name, want := range map[string][2]string{
		"CVE-2024-9143":       {"Medium", "cvss:cisa-adp 3.1"},
		"CVE-2021-44228":      {"Low", "alpine"},
		"GHSA-jfh8-c2jp-5v3q": {"Critical", "cvss:nvd 3.1"},
	} {
		v := byName[name]
		if v == nil || v.NormalizedSeverity.String() != want[0] || v.SeveritySource != want[1] {
			t.Errorf("%s: %+v, want %s from %s", name, v, want[0], want[1])
		}
	}
	if got := names(vr, "a"); len(got) != 2 || got[0] != "CVE-2024-9143" {
		t.Errorf("order %v: Medium (from CVSS) before Low", got)
	}
	b, err := json.Marshal(vr.Enrichments)
	if err != nil {
		t.Fatal(err)
	}
	var en map[string][]map[string][]json.RawMessage
	if err := json.Unmarshal(b, &en); err != nil {
		t.Fatal(err)
	}
	ghsa, ossl, lowLog := byName["GHSA-jfh8-c2jp-5v3q"].ID, byName["CVE-2024-9143"].ID, byName["CVE-2021-44228"].ID
	c := en[vuln.CVSSEnrichment]
	if len(c) != 1 || string(c[0][ossl][0]) != opensslADP || string(c[0][ghsa][0]) != log4shellNVD || string(c[0][lowLog][0]) != log4shellNVD {
		t.Errorf("clair.cvss %s", b)
	}
	if e := en[vuln.EPSSEnrichment]; len(e) != 1 || len(e[0][ghsa]) != 1 || !strings.Contains(string(e[0][ghsa][0]), `"percentile":0.99957`) {
		t.Errorf("clair.epss %s", b)
	}
	if k := en[vuln.KEVEnrichment]; len(k) != 1 || len(k[0][ghsa]) != 1 || !strings.Contains(string(k[0][ghsa][0]), `"known_ransomware_campaign_use":"Known"`) {
		t.Errorf("clair.kev %s", b)
	}
}

// TestEnrichWithoutStore: a store without enrichment records gives reports
// without enrichments, and severities keep their source.
func TestEnrichWithoutStore(t *testing.T) {
	bsd := &vuln.Package{Name: "bsdutils", Version: "1:2.36.1-8+deb11u1", Ecosystem: "dpkg", Source: &vuln.Package{Name: "util-linux", Version: "2.36.1-8+deb11u1"}}
	st := &memStore{advs: []*vuln.Advisory{{Feed: "debian", Name: "CVE-2022-0563", Namespace: "debian:11", Package: "util-linux",
		VersionFormat: "dpkg", State: vuln.StateUnfixed, NormalizedSeverity: vuln.Negligible}}}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), debianReport(bsd))
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.Enrichments) != 0 {
		t.Errorf("enrichments %v", vr.Enrichments)
	}
	for _, v := range vr.Vulnerabilities {
		if v.SeveritySource != "debian" {
			t.Errorf("%s: severity source %q", v.Name, v.SeveritySource)
		}
	}
}

// probedStore is enrichStore that can say whether it holds records, with
// a generation the test moves as a feed update would.
type probedStore struct {
	*enrichStore
	gen    string
	probes int
}

func (s *probedStore) HasEnrichments(context.Context) (bool, error) {
	s.probes++
	return len(s.recs) > 0, nil
}

func (s *probedStore) FeedStates(context.Context) ([]store.FeedState, error) {
	return []store.FeedState{{Feed: "nvd", Operation: s.gen}}, nil
}

// TestEnrichProbe: a store that says it holds no enrichment record is not
// asked for any CVE, once per generation; records loaded since (a new
// generation) are found and attached, and a warm cache asks nothing.
func TestEnrichProbe(t *testing.T) {
	bsd := &vuln.Package{Name: "bsdutils", Version: "1:2.36.1-8+deb11u1", Ecosystem: "dpkg", Source: &vuln.Package{Name: "util-linux", Version: "2.36.1-8+deb11u1"}}
	st := &probedStore{gen: "1", enrichStore: &enrichStore{memStore: &memStore{advs: []*vuln.Advisory{{Feed: "debian", Name: "CVE-2022-0563", Namespace: "debian:11", Package: "util-linux",
		VersionFormat: "dpkg", State: vuln.StateUnfixed, NormalizedSeverity: vuln.Negligible}}}}}
	m := &Matcher{Store: st}
	match := func() *vuln.VulnerabilityReport {
		t.Helper()
		vr, err := m.Match(context.Background(), debianReport(bsd))
		if err != nil {
			t.Fatal(err)
		}
		return vr
	}
	for range 2 {
		vr := match()
		if len(vr.Enrichments) != 0 {
			t.Errorf("enrichments %v", vr.Enrichments)
		}
		for _, v := range vr.Vulnerabilities {
			if v.SeveritySource != "debian" {
				t.Errorf("%s: severity source %q", v.Name, v.SeveritySource)
			}
		}
	}
	if st.calls != 0 || st.probes != 1 {
		t.Errorf("without records: %d look-ups, %d probes; want 0 and 1", st.calls, st.probes)
	}

	st.recs = []*vuln.Enrichment{{Feed: "nvd", CVE: "CVE-2022-0563", CVSS: []vuln.CVSS{cvss(vuln.CVSSSourceNVD, log4shellNVD)}}}
	st.gen = "2"
	for range 2 {
		if vr := match(); len(vr.Enrichments[vuln.CVSSEnrichment]) != 1 {
			t.Errorf("with records: enrichments %v", vr.Enrichments)
		}
	}
	if st.calls != 1 || st.probes != 2 {
		t.Errorf("with records: %d look-ups, %d probes; want 1 and 2", st.calls, st.probes)
	}
}
