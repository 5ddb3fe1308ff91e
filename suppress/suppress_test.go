package suppress

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpecExamples reads the published examples as published.
func TestSpecExamples(t *testing.T) {
	r, err := ParseVEX("openvex-spec-minimal.json", read(t, "openvex-spec-minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 1 || r[0].Status != Fixed || r[0].IDs[0] != "CVE-2023-12345" || len(r[0].Products) != 2 ||
		r[0].Products[0].Name != "git" || r[0].Products[0].Version != "2.39.0-r1" || r[0].Whole {
		t.Errorf("openvex minimal: %+v", r)
	}
	for file, want := range map[string]string{
		"cdx-case1-vex-not_affected.json":        NotAffected,
		"cdx-case1-vex-fixed.json":               Fixed,
		"cdx-case1-vex-affected.json":            Affected,
		"cdx-case1-vex-under_investigation.json": UnderInvestigation,
	} {
		r, err := ParseVEX(file, read(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		// Each names the product itself (the metadata component): the
		// statement is about the whole image.
		if len(r) != 1 || r[0].Status != want || r[0].IDs[0] != "CVE-2021-44228" || !r[0].Whole {
			t.Errorf("%s: %+v", file, r)
		}
	}
	r, _ = ParseVEX("x", read(t, "cdx-case1-vex-not_affected.json"))
	if want := "not_affected: code_not_present: This version of Product ABC is not affected by the vulnerability. Class with vulnerable code was removed before shipping."; r[0].Reason != want {
		t.Errorf("reason %q", r[0].Reason)
	}
}

// lodashReport holds lodash 4.17.15 with the finding osv.dev's npm export
// gives it: GHSA-p6mc-m468-83gw, alias CVE-2020-8203 (the record's id and
// aliases, in ../shared/testdata/feeds/osv/npm.zip), named by its CVE.
func lodashReport() *vuln.VulnerabilityReport {
	p := &vuln.Package{ID: "1", Name: "lodash", Version: "4.17.15", Ecosystem: "npm", Purl: "pkg:npm/lodash@4.17.15",
		Path: "srv/web/node_modules/lodash/package.json"}
	v := &vuln.Vulnerability{ID: "10", Name: "CVE-2020-8203", Aliases: []string{"GHSA-p6mc-m468-83gw"},
		NormalizedSeverity: vuln.High, FixedInVersion: "4.17.19"}
	return &vuln.VulnerabilityReport{
		ManifestHash:           "sha256:0123",
		Packages:               map[string]*vuln.Package{"1": p},
		Vulnerabilities:        map[string]*vuln.Vulnerability{"10": v},
		PackageVulnerabilities: map[string][]string{"1": {"10"}},
	}
}

func TestApply(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	vr := lodashReport()
	ignore := func(s string) []Rule {
		r, err := ParseIgnore("ig.yaml", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	vex := func(s string) []Rule {
		r, err := ParseVEX("v.json", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		name       string
		rules      []Rule
		suppressed bool
		warning    string
	}{
		{"alias", ignore("- id: ghsa-p6mc-m468-83gw\n  reason: r\n"), true, ""},
		{"name", ignore("- id: CVE-2020-8203\n"), true, ""},
		{"synonyms", ignore("vulnerabilities:\n  - vulnerability: CVE-2020-8203\n    reason: r\n"), true, ""},
		{"package", ignore("- id: CVE-2020-8203\n  package: lodash\n  version: 4.17.15\n  path: srv/*/node_modules/lodash/package.json\n"), true, ""},
		{"other version", ignore("- id: CVE-2020-8203\n  version: 4.17.21\n"), false, "matches no finding"},
		{"other path", ignore("- id: CVE-2020-8203\n  path: opt/*\n"), false, "matches no finding"},
		{"not yet expired", ignore("- id: CVE-2020-8203\n  expires: 2026-06-01\n"), true, ""},
		{"expired", ignore("- id: CVE-2020-8203\n  expires: 2026-05-31\n"), false, "CVE-2020-8203 expired on 2026-05-31"},
		{"expired rfc3339", ignore("- id: CVE-2020-8203\n  expires: 2026-05-31T23:00:00Z\n"), false, "expired on 2026-05-31T23:00:00Z"},
		{"vex purl", vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"GHSA-p6mc-m468-83gw"},"products":[{"@id":"pkg:npm/lodash@4.17.15"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`), true, ""},
		{"vex other version", vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-2020-8203"},"products":[{"@id":"pkg:npm/lodash@4.17.21"}],"status":"not_affected","justification":"component_not_present"}]}`), false, ""},
		{"vex other type", vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-2020-8203"},"products":[{"@id":"pkg:pypi/lodash"}],"status":"not_affected","justification":"component_not_present"}]}`), false, ""},
		{"vex image subcomponent", vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-2020-8203"},"products":[{"@id":"pkg:oci/app@sha256%3A0123","subcomponents":[{"@id":"pkg:npm/lodash"}]}],"status":"fixed"}]}`), true, ""},
		{"vex the image itself", vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-2020-8203"},"products":[{"@id":"pkg:oci/app@sha256%3A0123"}],"status":"fixed"}]}`), true, ""},
		{"vex other image", vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-2020-8203"},"products":[{"@id":"pkg:oci/app@sha256%3A9999","subcomponents":[{"@id":"pkg:npm/lodash"}]}],"status":"fixed"}]}`), false, ""},
		{"vex 0.0.x strings", vex(`{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":"CVE-2020-8203","products":["pkg:npm/lodash@4.17.15"],"status":"fixed"}]}`), true, ""},
		{"vex later wins", vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
			{"vulnerability":{"name":"CVE-2020-8203"},"status":"not_affected","justification":"component_not_present"},
			{"vulnerability":{"name":"CVE-2020-8203"},"status":"affected"}]}`), false, ""},
		{"vex affected beats ignore", append(vex(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-2020-8203"},"status":"affected"}]}`),
			ignore("- id: CVE-2020-8203\n")...), false, "vex v.json says affected; the entry does not apply"},
		{"cdx purl ref", vex(`{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[{"id":"CVE-2020-8203","analysis":{"state":"false_positive"},"affects":[{"ref":"pkg:npm/lodash@4.17.15"}]}]}`), true, ""},
		{"cdx reference alias", vex(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"bom-ref":"l","name":"lodash","purl":"pkg:npm/lodash@4.17.15"}],"vulnerabilities":[{"id":"SNYK-JS-LODASH-1","references":[{"id":"GHSA-p6mc-m468-83gw"}],"analysis":{"state":"not_affected","justification":"code_not_reachable"},"affects":[{"ref":"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#l"}]}]}`), true, ""},
	} {
		res := Apply(vr, c.rules, now)
		got := len(res.Suppressed) == 1
		if got != c.suppressed || (len(res.Report.PackageVulnerabilities) == 0) != c.suppressed {
			t.Errorf("%s: suppressed %v (%d findings left), want %v", c.name, got, len(res.Report.PackageVulnerabilities), c.suppressed)
		}
		if w := strings.Join(res.Warnings, "\n"); (c.warning == "") != (w == "") || !strings.Contains(w, c.warning) {
			t.Errorf("%s: warnings %q, want %q", c.name, w, c.warning)
		}
	}
	if len(vr.PackageVulnerabilities) != 1 {
		t.Error("Apply modified its input")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ignore:\n  - id: CVE-1\n    pakage: x\n", `f: line 3: unknown field "pakage" (want id, package, version, path, expires, reason)`},
		{"ignores:\n  - id: CVE-1\n", `f: line 1: unknown key "ignores"`},
		{"- id: CVE-1\n  id: CVE-2\n", `f: line 2: id given twice`},
		{"- id: CVE-1\n  vulnerability: CVE-2\n", `f: line 2: id given twice`},
		{"- id: [a, b]\n", `f: line 1: id: want a single value`},
		{"- CVE-1\n", `f: line 1: an entry is a mapping`},
		{"ignore: 3\n", `f: line 1: want a list of entries`},
		{"- id: CVE-1\n\t- bad", `f: yaml: line 2`},
	} {
		_, err := ParseIgnore("f", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"{\n\"@context\": \"https://openvex.dev/ns/v0.2.0\",\n\"statements\": [\n{\"status\": 1}]}", `f: line 4: statements.status: want string`},
		{"{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"statements\": [{\"vulnerability\": {\"name\": \"C\"}, \"status\": \"bogus\"}]}", `f: statements[0].status "bogus"`},
		{"{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"statements\": [{\"status\": \"fixed\"}]}", `f: statements[0].vulnerability.name is missing`},
		{"{\"bomFormat\": \"CycloneDX\", \"vulnerabilities\": [{\"id\": \"C\", \"analysis\": {\"state\": \"maybe\"}}]}", `f: vulnerabilities[0].analysis.state "maybe"`},
		{"{\"spdxVersion\": \"SPDX-2.3\"}", `f: not a VEX document`},
		{"{\n\n  \"@context\": x}", `f: line 3: invalid character`},
	} {
		_, err := ParseVEX("f", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// TestFileBound: a file past MaxFileSize is refused, not read whole.
func TestFileBound(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = LoadFile(context.Background(), p, false)
	if !errors.Is(err, limit.ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v", err)
	}
}

func FuzzParseIgnore(f *testing.F) {
	f.Add([]byte("ignore:\n  - id: CVE-2024-28085\n    package: bsdutils\n    expires: 2026-12-31\n    reason: r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, err := ParseIgnore("f", b)
		if err != nil {
			return
		}
		for _, r := range rules {
			if len(r.IDs) == 0 || r.IDs[0] == "" {
				t.Fatalf("rule without an id: %+v", r)
			}
		}
		Apply(lodashReportNoT(), rules, time.Now())
	})
}

func FuzzParseVEX(f *testing.F) {
	for _, n := range []string{"openvex-spec-minimal.json", "cdx-case1-vex-not_affected.json", "cdx-case1-vex-fixed.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, err := ParseVEX("f", b)
		if err != nil {
			return
		}
		for _, r := range rules {
			if len(r.IDs) == 0 || r.IDs[0] == "" {
				t.Fatalf("rule without an id: %+v", r)
			}
		}
		Apply(lodashReportNoT(), rules, time.Now())
	})
}

func lodashReportNoT() *vuln.VulnerabilityReport { return lodashReport() }

// TestYAMLAliasBomb: a small file whose aliases expand to billions of
// nodes is refused quickly instead of eating memory.
func TestYAMLAliasBomb(t *testing.T) {
	bomb := `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
ignore: [*i]
`
	start := time.Now()
	_, err := ParseIgnore("bomb.yaml", []byte(bomb))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v", err, time.Since(start))
	}
}
