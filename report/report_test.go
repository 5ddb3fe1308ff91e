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
			"1": {ID: "1", Name: "bsdutils", Version: "1:2.36.1-8+deb11u1", Kind: "binary", Source: &vuln.Package{Name: "util-linux", Version: "2.36.1-8+deb11u1", Kind: "source"}},
			"2": {ID: "2", Name: "zlib1g", Version: "1:1.2.11.dfsg-2+deb11u2", Kind: "binary"},
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
	if !strings.HasPrefix(lines[1], "zlib1g") || !strings.Contains(lines[1], "Critical") || !strings.HasSuffix(lines[1], "unfixed") {
		t.Errorf("most severe row first, unfixed: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "bsdutils") || !strings.HasSuffix(lines[2], "2.36.1-8+deb11u2") {
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
