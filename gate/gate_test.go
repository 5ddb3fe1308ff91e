package gate

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

// report holds log4j-core 2.14.1 with Log4Shell (Critical, fixed in
// 2.15.0, in CISA's KEV catalog: its entry from the catalog of 2025.08.25,
// ../shared/testdata/feeds/kev) and a Low unfixed finding in zlib1g.
func testReport(t *testing.T) *vuln.VulnerabilityReport {
	t.Helper()
	const doc = `{
  "manifest_hash": "sha256:01",
  "packages": {
    "1": {"id": "1", "name": "log4j-core", "version": "2.14.1", "ecosystem": "maven"},
    "2": {"id": "2", "name": "zlib1g", "version": "1:1.2.11.dfsg-2+deb11u2", "ecosystem": "dpkg"}
  },
  "vulnerabilities": {
    "10": {"id": "10", "name": "GHSA-jfh8-c2jp-5v3q", "aliases": ["CVE-2021-44228"], "normalized_severity": "Critical", "fixed_in_version": "2.15.0"},
    "11": {"id": "11", "name": "CVE-2023-45853", "normalized_severity": "Low", "fixed_in_version": ""}
  },
  "package_vulnerabilities": {"1": ["10"], "2": ["11"]},
  "enrichments": {
    "message/vnd.clair.map.vulnerability; enricher=clair.kev schema=none": [
      {"10": [{"cve": "CVE-2021-44228", "vulnerability_name": "Apache Log4j2 Remote Code Execution Vulnerability", "catalog_version": "2025.08.25", "date_added": "2021-12-10", "due_date": "2021-12-24", "known_ransomware_campaign_use": "Known"}]}
    ]
  }
}`
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal([]byte(doc), &vr); err != nil {
		t.Fatal(err)
	}
	return &vr
}

func TestFailOn(t *testing.T) {
	vr := testReport(t)
	for _, c := range []struct {
		failOn string
		n      int
	}{
		{"Critical", 1}, {"high", 1}, {"LOW", 2}, {"Unknown", 2}, {"kev", 1}, {"Low,kev", 2},
	} {
		f, err := ParseFailOn(c.failOn)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Failing(vr); len(got) != c.n {
			t.Errorf("--fail-on %s: %d failing, want %d", c.failOn, len(got), c.n)
		}
	}
	// KEV: the enrichment names the finding, not its severity.
	f, _ := ParseFailOn("kev")
	if got := f.Failing(vr); len(got) != 1 || got[0].Package.Name != "log4j-core" {
		t.Errorf("kev: %+v", got)
	}
	// A report without the enrichment fails nothing on kev.
	vr.Enrichments = nil
	if got := f.Failing(vr); len(got) != 0 {
		t.Errorf("kev without enrichment: %+v", got)
	}
	// In-process enrichments (not decoded from JSON) read the same.
	vr.Enrichments = map[string][]any{KEVEnrichment: {map[string][]struct {
		CVE string `json:"cve"`
	}{"11": {{CVE: "CVE-2023-45853"}}}}}
	if got := f.Failing(vr); len(got) != 1 || got[0].Package.Name != "zlib1g" {
		t.Errorf("kev in process: %+v", got)
	}
	for _, bad := range []string{"", ",", "Severe", "High,Low"} {
		if _, err := ParseFailOn(bad); err == nil {
			t.Errorf("--fail-on %q accepted", bad)
		}
	}
	var zero FailOn
	if zero.Set() || len(zero.Failing(vr)) != 0 {
		t.Error("the zero gate fails something")
	}
}

func TestFilter(t *testing.T) {
	vr := testReport(t)
	count := func(f Filter) int {
		out := f.Apply(vr)
		n := 0
		for _, v := range out.PackageVulnerabilities {
			n += len(v)
		}
		if len(out.Packages) != 2 {
			t.Errorf("filter dropped packages")
		}
		return n
	}
	sev, err := ParseSeverities("low, Critical")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    Filter
		n    int
	}{
		{"none", Filter{}, 2},
		{"severities", Filter{Severities: sev}, 2},
		{"one severity", Filter{Severities: []vuln.Severity{vuln.Low}}, 1},
		{"min", Filter{MinSeverity: vuln.High, HasMin: true}, 1},
		{"min unknown", Filter{MinSeverity: vuln.Unknown, HasMin: true}, 2},
		{"unfixed", Filter{IgnoreUnfixed: true}, 1},
		{"both", Filter{IgnoreUnfixed: true, Severities: []vuln.Severity{vuln.Low}}, 0},
	} {
		if n := count(c.f); n != c.n {
			t.Errorf("%s: %d findings, want %d", c.name, n, c.n)
		}
	}
	if len(vr.PackageVulnerabilities) != 2 {
		t.Error("Apply modified its input")
	}
	if _, err := ParseSeverities("High,Hihg"); err == nil || !strings.Contains(err.Error(), `"Hihg"`) {
		t.Errorf("err = %v", err)
	}
}

// TestKeep checks Keep's two paths: the report returned as it is when
// keep accepts every pair, and rebuilt when an answer or a loose end
// (an unreferenced vulnerability, a dangling id, an empty list) changes
// it; keep sees every pair once, in package order, either way.
func TestKeep(t *testing.T) {
	type pair struct{ pkg, vuln string }
	keepAll := func(seen *[]pair) func(*vuln.Package, *vuln.Vulnerability) bool {
		return func(p *vuln.Package, v *vuln.Vulnerability) bool {
			*seen = append(*seen, pair{p.ID, v.ID})
			return true
		}
	}
	pairs := func(vr *vuln.VulnerabilityReport) map[pair]bool {
		out := map[pair]bool{}
		for pid, vids := range vr.PackageVulnerabilities {
			for _, vid := range vids {
				out[pair{pid, vid}] = true
			}
		}
		return out
	}

	vr := testReport(t)
	var seen []pair
	out := Keep(vr, keepAll(&seen))
	if want := []pair{{"1", "10"}, {"2", "11"}}; !slices.Equal(seen, want) {
		t.Errorf("keep saw %v, want %v", seen, want)
	}
	if !maps.Equal(pairs(out), pairs(vr)) || len(out.Vulnerabilities) != 2 {
		t.Errorf("all kept: %v, %d vulnerabilities", pairs(out), len(out.Vulnerabilities))
	}

	for _, c := range []struct {
		name  string
		edit  func(*vuln.VulnerabilityReport)
		pairs int
		vulns int
	}{
		{"unreferenced vulnerability", func(vr *vuln.VulnerabilityReport) {
			vr.Vulnerabilities["12"] = &vuln.Vulnerability{ID: "12"}
		}, 2, 2},
		{"dangling id", func(vr *vuln.VulnerabilityReport) {
			vr.PackageVulnerabilities["2"] = []string{"11", "13"}
		}, 2, 2},
		{"empty list", func(vr *vuln.VulnerabilityReport) {
			vr.PackageVulnerabilities["3"] = nil
		}, 2, 2},
	} {
		vr := testReport(t)
		c.edit(vr)
		var seen []pair
		out := Keep(vr, keepAll(&seen))
		if len(seen) != 2 {
			t.Errorf("%s: keep saw %v", c.name, seen)
		}
		_, empty := out.PackageVulnerabilities["3"]
		if got := pairs(out); len(got) != c.pairs || len(out.Vulnerabilities) != c.vulns || empty {
			t.Errorf("%s: %v, %d vulnerabilities", c.name, got, len(out.Vulnerabilities))
		}
	}

	vr = testReport(t)
	out = Keep(vr, func(p *vuln.Package, _ *vuln.Vulnerability) bool { return p.ID == "2" })
	if got := pairs(out); len(got) != 1 || !got[pair{"2", "11"}] || len(out.Vulnerabilities) != 1 || out.Vulnerabilities["11"] == nil {
		t.Errorf("one dropped: %v, %d vulnerabilities", got, len(out.Vulnerabilities))
	}
	if len(vr.PackageVulnerabilities) != 2 || len(vr.Vulnerabilities) != 2 {
		t.Error("Keep modified its input")
	}
}
