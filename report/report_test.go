package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

func sample() *vuln.VulnerabilityReport {
	d := &vuln.Distribution{ID: "1", DID: "debian", VersionID: "11", PrettyName: "Debian GNU/Linux 11 (bullseye)"}
	return &vuln.VulnerabilityReport{
		ManifestHash: "sha256:abc",
		Packages: map[string]*vuln.Package{
			"1": {ID: "1", Name: "bsdutils", Version: "1:2.36.1-8+deb11u1", Kind: "binary", Ecosystem: "dpkg", PackageDB: "var/lib/dpkg/status", Source: &vuln.Package{Name: "util-linux", Version: "2.36.1-8+deb11u1", Kind: "source"}},
			"2": {ID: "2", Name: "zlib1g", Version: "1:1.2.11.dfsg-2+deb11u2", Kind: "binary", Ecosystem: "dpkg", PackageDB: "var/lib/dpkg/status"},
		},
		Distributions: map[string]*vuln.Distribution{"1": d},
		Repositories:  map[string]*vuln.Repository{},
		Environments:  map[string][]*vuln.Environment{"1": {{PackageDB: "var/lib/dpkg/status", IntroducedIn: "sha256:l1", DistributionID: "1"}}},
		Vulnerabilities: map[string]*vuln.Vulnerability{
			"a": {ID: "a", Updater: "debian", Name: "CVE-2024-28085", NormalizedSeverity: vuln.Low, FixedInVersion: "2.36.1-8+deb11u2", Package: &vuln.Package{Name: "util-linux"}, Distribution: d},
			"b": {ID: "b", Updater: "debian", Name: "CVE-2023-45853", NormalizedSeverity: vuln.Critical, Package: &vuln.Package{Name: "zlib"}, Distribution: d},
		},
		PackageVulnerabilities: map[string][]string{"1": {"a"}, "2": {"b"}},
		Enrichments:            map[string][]any{},
	}
}

// TestJSONShape pins Clair's field names: tools written for Clair read them.
func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "json", sample()); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"distributions", "enrichments", "environments", "manifest_hash", "package_vulnerabilities", "packages", "repository", "vulnerabilities"}
	if !slices.Equal(keys, want) {
		t.Fatalf("top-level keys %v, want %v", keys, want)
	}
	var vulns map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["vulnerabilities"], &vulns); err != nil {
		t.Fatal(err)
	}
	// issued is left out when the feed gave no date: never 0001-01-01.
	if v, ok := vulns["a"]["issued"]; ok {
		t.Errorf("issued = %s for an advisory without a date", v)
	}
	for _, k := range []string{"id", "updater", "name", "description", "links", "severity", "normalized_severity", "package", "distribution", "repository", "fixed_in_version"} {
		if _, ok := vulns["a"][k]; !ok {
			t.Errorf("vulnerability has no %q", k)
		}
	}
	if string(vulns["b"]["normalized_severity"]) != `"Critical"` {
		t.Errorf("normalized_severity = %s", vulns["b"]["normalized_severity"])
	}
	var pkgs map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["packages"], &pkgs); err != nil {
		t.Fatal(err)
	}
	if string(pkgs["1"]["name"]) != `"bsdutils"` {
		t.Errorf("package name = %s", pkgs["1"]["name"])
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "table", sample()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("table:\n%s", buf.String())
	}
	if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"PACKAGE", "INSTALLED", "VULNERABILITY", "SEVERITY", "CVSS", "EPSS", "KEV", "FIXED", "IN", "FOUND", "IN"}) {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[1]); f[0] != "zlib1g" || f[3] != "Critical" || f[7] != "unfixed" {
		t.Errorf("most severe row first, unfixed: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "bsdutils" || f[7] != "2.36.1-8+deb11u2" || f[8] != "var/lib/dpkg/status" {
		t.Errorf("row 2: %q", lines[2])
	}
	want := "Total: 2 vulnerabilities (Critical: 1, Low: 1) in 2 of 2 packages, 1 unfixed, Debian GNU/Linux 11 (bullseye)"
	if lines[3] != want {
		t.Errorf("summary %q, want %q", lines[3], want)
	}
	if err := Write(&buf, "xml", sample()); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestTableOrderAndEnrichments: one order over distribution and language
// packages (severity, then KEV, then EPSS), the CVSS, EPSS and KEV columns
// read from the report's enrichments (as a server's JSON brings them back
// too), a severity taken from CVSS marked, and each row saying where the
// package was found.
func TestTableOrderAndEnrichments(t *testing.T) {
	vr := sample()
	d := vr.Distributions["1"]
	vr.Packages["3"] = &vuln.Package{ID: "3", Name: "stdlib", Version: "v1.20.1", Ecosystem: "go", Path: "usr/local/bin/app"}
	vr.Packages["4"] = &vuln.Package{ID: "4", Name: "requests", Version: "2.25.0", Ecosystem: "pypi", Path: "usr/lib/python3/site-packages/requests-2.25.0.dist-info/METADATA"}
	vr.Vulnerabilities["c"] = &vuln.Vulnerability{ID: "c", Updater: "osv", Name: "CVE-2023-24538", NormalizedSeverity: vuln.Critical, SeveritySource: "cvss:nvd 3.1", Package: &vuln.Package{Name: "stdlib"}}
	vr.Vulnerabilities["d"] = &vuln.Vulnerability{ID: "d", Updater: "osv", Name: "CVE-2023-32681", NormalizedSeverity: vuln.Critical, SeveritySource: "osv", Package: &vuln.Package{Name: "requests"}}
	vr.Vulnerabilities["e"] = &vuln.Vulnerability{ID: "e", Updater: "debian", Name: "CVE-2022-0001", NormalizedSeverity: vuln.Critical, Package: &vuln.Package{Name: "zlib"}, Distribution: d}
	vr.PackageVulnerabilities["3"] = []string{"c"}
	vr.PackageVulnerabilities["4"] = []string{"d"}
	vr.PackageVulnerabilities["2"] = []string{"b", "e"}
	vr.Enrichments = map[string][]any{
		vuln.CVSSEnrichment: {map[string][]json.RawMessage{"c": {json.RawMessage(`{"version":"3.1","baseScore":9.8,"baseSeverity":"CRITICAL"}`)}}},
		vuln.EPSSEnrichment: {map[string][]vuln.EPSS{"b": {{CVE: "CVE-2023-45853", Percentile: 0.5}}, "d": {{CVE: "CVE-2023-32681", Percentile: 0.9}}, "c": {{CVE: "CVE-2023-24538", Percentile: 0.974}}}},
		vuln.KEVEnrichment:  {map[string][]vuln.KEV{"e": {{CVE: "CVE-2022-0001", DateAdded: "2022-01-10", KnownRansomwareCampaignUse: "Known"}}}},
	}
	for _, roundTrip := range []bool{false, true} {
		in := vr
		if roundTrip {
			b, err := json.Marshal(vr)
			if err != nil {
				t.Fatal(err)
			}
			in = &vuln.VulnerabilityReport{}
			if err := json.Unmarshal(b, in); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := Table(&buf, in); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		var order []string
		for _, l := range lines[1 : len(lines)-1] {
			order = append(order, strings.Fields(l)[2])
		}
		// Critical: KEV first (e), then by EPSS: c 97.4%, d 90%, b 50%; then Low.
		want := []string{"CVE-2022-0001", "CVE-2023-24538", "CVE-2023-32681", "CVE-2023-45853", "CVE-2024-28085"}
		if !slices.Equal(order, want) {
			t.Fatalf("round trip %v: order %v, want %v\n%s", roundTrip, order, want, buf.String())
		}
		for _, c := range []struct {
			line int
			want []string
		}{
			{1, []string{"zlib1g", "CVE-2022-0001", "Critical", "-", "-", "yes, ransomware"}},
			{2, []string{"stdlib", "CVE-2023-24538", "Critical (CVSS)", "9.8", "97.4%", "-", "unfixed", "go: usr/local/bin/app"}},
			{3, []string{"requests", "CVE-2023-32681", "Critical", "-", "90.0%", "-", "unfixed", "pypi: usr/lib/python3/site-packages"}},
		} {
			for _, w := range c.want {
				if !strings.Contains(lines[c.line], "  "+w) && !strings.HasPrefix(lines[c.line], w) {
					t.Errorf("round trip %v: row %d lacks %q: %q", roundTrip, c.line, w, lines[c.line])
				}
			}
		}
	}
}

func TestLocation(t *testing.T) {
	for _, tc := range []struct{ eco, path, want string }{
		{"dpkg", "var/lib/dpkg/status", ""},
		{"go", "usr/local/bin/app", "usr/local/bin/app"},
		{"pypi", "usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA", "usr/local/lib/python3.12/site-packages"},
		{"pypi", "usr/lib/python3/dist-packages/six-1.16.0.egg-info", "usr/lib/python3/dist-packages"},
		{"npm", "app/node_modules/express/node_modules/qs/package.json", "app/node_modules"},
		{"npm", "node_modules/lodash/package.json", "node_modules"},
		{"maven", "app/app.war!WEB-INF/lib/log4j-core-2.14.1.jar", "app/app.war"},
		{"rubygems", "usr/local/bundle/specifications/rack-2.2.3.gemspec", "usr/local/bundle"},
		{"cargo", "src/Cargo.lock", "src/Cargo.lock"},
	} {
		if got := Location(&vuln.Package{Ecosystem: tc.eco, Path: tc.path}); got != tc.want {
			t.Errorf("Location(%s %s) = %q, want %q", tc.eco, tc.path, got, tc.want)
		}
	}
}
