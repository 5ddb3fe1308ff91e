package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/openclair/clair/internal/reporttest"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

var fixture struct {
	once sync.Once
	ir   *vuln.IndexReport
	vr   *vuln.VulnerabilityReport
	cvss int
	err  error
}

var tmpRoot string

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "report-test")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// realReport is the debian-11-nginx image's report against the real
// bullseye tracker excerpt, built once per test binary; each caller gets
// its own copy.
func realReport(t testing.TB) (*vuln.IndexReport, *vuln.VulnerabilityReport) {
	t.Helper()
	fixture.once.Do(func() {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(tmpRoot, "clair.db"))
		if err != nil {
			fixture.err = err
			return
		}
		defer st.Close()
		fixture.ir, fixture.vr, fixture.err = reporttest.DebianNginx(ctx, st)
		if fixture.err == nil {
			if p := reporttest.NVDSample(); p != "" {
				fixture.cvss, fixture.err = reporttest.Enrich(fixture.vr, p)
			}
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	b, _ := json.Marshal(fixture.vr)
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal(b, &vr); err != nil {
		t.Fatal(err)
	}
	return fixture.ir, &vr
}

// gated takes the last n findings of vr (in Rows' order) out, as the
// CLI's ignore file and VEX gates do, and returns the document.
func gated(t testing.TB, n int) *report.Document {
	_, vr := realReport(t)
	d := &report.Document{Report: vr, Image: "docker.io/library/nginx:1.21-bullseye", Warnings: []string{"a test warning"}}
	rows := report.Rows(vr)
	for i, r := range rows[len(rows)-n:] {
		s := report.Suppressed{Package: r.Package, Vulnerability: r.Vuln, Reason: "accepted risk: not reachable", Source: "ignore-file .clairignore"}
		switch i % 4 {
		case 1: // as package suppress words an OpenVEX statement
			s.Reason, s.Source = "not_affected: vulnerable_code_not_in_execute_path: the parser is never called", "vex openvex.json"
		case 3:
			s.Reason, s.Source = "fixed: backported", "vex vex.cdx.json"
		}
		d.Suppressed = append(d.Suppressed, s)
		ids := vr.PackageVulnerabilities[r.Package.ID]
		for j, id := range ids {
			if vr.Vulnerabilities[id] == r.Vuln {
				vr.PackageVulnerabilities[r.Package.ID] = append(ids[:j:j], ids[j+1:]...)
				break
			}
		}
	}
	return d
}

// pairs is the set "package version vulnerability" of a report, the way
// every format must reproduce it.
func pairs(vr *vuln.VulnerabilityReport) map[string]bool {
	out := map[string]bool{}
	for _, r := range report.Rows(vr) {
		out[r.Package.Name+" "+r.Package.Version+" "+r.Vuln.Name] = true
	}
	return out
}

var schemaFiles = map[string]string{
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json":   "sarif-schema-2.1.0.json",
	"http://cyclonedx.org/schema/bom-1.6.schema.json":                                              "bom-1.6.schema.json",
	"http://cyclonedx.org/schema/spdx.schema.json":                                                 "spdx.schema.json",
	"http://cyclonedx.org/schema/jsf-0.82.schema.json":                                             "jsf-0.82.schema.json",
	"http://spdx.org/rdf/terms/2.3":                                                                "spdx-2.3-schema.json",
	"https://github.com/openclair/clair/report/testdata/schemas/cosign-vuln-predicate.schema.json": "cosign-vuln-predicate.schema.json",
}

var formatSchemas = map[string]string{
	"sarif":       "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
	"cyclonedx":   "http://cyclonedx.org/schema/bom-1.6.schema.json",
	"spdx":        "http://spdx.org/rdf/terms/2.3",
	"cosign-vuln": "https://github.com/openclair/clair/report/testdata/schemas/cosign-vuln-predicate.schema.json",
}

// validate checks out against the official schema of format, offline:
// every schema is loaded from testdata/schemas under its own id.
func validate(t *testing.T, format string, out []byte) {
	t.Helper()
	if err := validateErr(t, format, out); err != nil {
		t.Fatalf("%s output fails its schema:\n%v", format, err)
	}
}

func validateErr(t *testing.T, format string, out []byte) error {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noNetwork{})
	for url, file := range schemaFiles {
		f, err := os.Open(filepath.Join("testdata/schemas", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	sch, err := c.Compile(formatSchemas[format])
	if err != nil {
		t.Fatalf("compile %s schema: %v", format, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%s output is not JSON: %v", format, err)
	}
	return sch.Validate(inst)
}

// TestSchemasBite checks that the validation fails where it should: each
// format's output with one required field broken.
func TestSchemasBite(t *testing.T) {
	d := gated(t, 1)
	breakIt := map[string]func(m map[string]any){
		"sarif":       func(m map[string]any) { m["version"] = "2.0" },
		"cyclonedx":   func(m map[string]any) { m["components"].([]any)[0].(map[string]any)["type"] = "gadget" },
		"spdx":        func(m map[string]any) { delete(m, "SPDXID") },
		"cosign-vuln": func(m map[string]any) { m["metadata"].(map[string]any)["scanStartedOn"] = "yesterday" },
	}
	for format, f := range breakIt {
		var m map[string]any
		if err := json.Unmarshal(render(t, format, d), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		if validateErr(t, format, b) == nil {
			t.Errorf("%s: a broken document passes its schema", format)
		}
	}
}

type noNetwork struct{}

func (noNetwork) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not in testdata/schemas (the tests never use the network)", url)
}

func render(t *testing.T, format string, d *report.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteDocument(&buf, format, d); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

func TestSchemas(t *testing.T) {
	d := gated(t, 3)
	for format := range formatSchemas {
		t.Run(format, func(t *testing.T) {
			validate(t, format, render(t, format, d))
		})
	}
	// An empty report is valid too.
	for format := range formatSchemas {
		t.Run(format+"/empty", func(t *testing.T) {
			validate(t, format, render(t, format, &report.Document{Report: &vuln.VulnerabilityReport{}}))
		})
	}
}

func TestSARIF(t *testing.T) {
	d := gated(t, 3)
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					Physical struct {
						Artifact struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Properties   map[string]string `json:"properties"`
				Suppressions []struct {
					Kind, Status, Justification string
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", d), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	got := map[string]bool{}
	nsup := 0
	for _, r := range run.Results {
		if rule := run.Tool.Driver.Rules[r.RuleIndex]; rule.ID != r.RuleID {
			t.Errorf("result %s points at rule %s", r.RuleID, rule.ID)
		}
		if r.Locations[0].Physical.Artifact.URI != "var/lib/dpkg/status" {
			t.Errorf("%s: location %q, want the dpkg database", r.RuleID, r.Locations[0].Physical.Artifact.URI)
		}
		if len(r.Suppressions) > 0 {
			nsup++
			if !strings.Contains(r.Suppressions[0].Justification, "ignore-file") && !strings.Contains(r.Suppressions[0].Justification, "vex") {
				t.Errorf("suppression without its source: %+v", r.Suppressions[0])
			}
			continue
		}
		got[r.Properties["package"]+" "+r.Properties["installed_version"]+" "+r.RuleID] = true
	}
	want := pairs(d.Report)
	if len(got) != len(want) || nsup != 3 {
		t.Fatalf("%d active results (%d suppressed), want the JSON report's %d (3)", len(got), nsup, len(want))
	}
	for p := range want {
		if !got[p] {
			t.Errorf("SARIF lacks %s", p)
		}
	}
	scored := false
	for _, r := range run.Tool.Driver.Rules {
		if r.ID == "CVE-2016-2781" && fixture.cvss > 0 {
			scored = true
			// NVD's primary score for coreutils' chroot escape: CVSS 3.0, 6.5.
			if r.Properties["security-severity"] != "6.5" {
				t.Errorf("CVE-2016-2781 security-severity %v, want NVD's 6.5", r.Properties["security-severity"])
			}
		}
	}
	if fixture.cvss > 0 && !scored {
		t.Error("no rule for CVE-2016-2781, the finding NVD scores")
	}
}

func TestCycloneDX(t *testing.T) {
	d := gated(t, 3)
	var bom struct {
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Ref  string `json:"bom-ref"`
			Name string `json:"name"`
			Ver  string `json:"version"`
			Purl string `json:"purl"`
		} `json:"components"`
		Vulnerabilities []struct {
			ID      string `json:"id"`
			Ratings []struct {
				Score    float64 `json:"score"`
				Severity string  `json:"severity"`
				Method   string  `json:"method"`
			} `json:"ratings"`
			Affects  []struct{ Ref string } `json:"affects"`
			Analysis *struct {
				State, Justification, Detail string
			} `json:"analysis"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(render(t, "cyclonedx", d), &bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != "1.6" || len(bom.Components) != len(d.Report.Packages) {
		t.Fatalf("spec %s, %d components for %d packages", bom.SpecVersion, len(bom.Components), len(d.Report.Packages))
	}
	byRef := map[string]string{}
	for _, c := range bom.Components {
		if !strings.HasPrefix(c.Purl, "pkg:deb/debian/") {
			t.Errorf("%s: purl %q", c.Name, c.Purl)
		}
		byRef[c.Ref] = c.Name + " " + c.Ver
	}
	got := map[string]bool{}
	var analyses []string
	scored := false
	for _, v := range bom.Vulnerabilities {
		if v.ID == "CVE-2016-2781" && fixture.cvss > 0 {
			scored = true
			if len(v.Ratings) != 2 || v.Ratings[1].Score != 6.5 || v.Ratings[1].Method != "CVSSv3" {
				t.Errorf("CVE-2016-2781 ratings %+v, want NVD's CVSS 3.0 score 6.5 (CVSSv3) beside the feed's", v.Ratings)
			}
		}
		if v.Analysis != nil {
			analyses = append(analyses, v.Analysis.State+"/"+v.Analysis.Justification)
			if !strings.Contains(v.Analysis.Detail, "suppressed by ") {
				t.Errorf("analysis detail %q lacks the source", v.Analysis.Detail)
			}
			continue
		}
		for _, a := range v.Affects {
			got[byRef[a.Ref]+" "+v.ID] = true
		}
	}
	if fixture.cvss > 0 && !scored {
		t.Error("no vulnerability CVE-2016-2781, the finding NVD scores")
	}
	want := pairs(d.Report)
	if len(got) != len(want) {
		t.Fatalf("%d affected pairs, want the JSON report's %d", len(got), len(want))
	}
	for p := range want {
		if !got[p] {
			t.Errorf("CycloneDX lacks %s", p)
		}
	}
	sort.Strings(analyses)
	if strings.Join(analyses, " ") != "not_affected/ not_affected/ not_affected/code_not_reachable" {
		t.Errorf("analyses %v", analyses)
	}
}

func TestSPDX(t *testing.T) {
	d := gated(t, 3)
	var doc struct {
		Version  string `json:"spdxVersion"`
		Comment  string `json:"comment"`
		Packages []struct {
			ID   string `json:"SPDXID"`
			Name string `json:"name"`
			Refs []struct {
				Type    string `json:"referenceType"`
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
		Relationships []struct {
			Type string `json:"relationshipType"`
		} `json:"relationships"`
	}
	if err := json.Unmarshal(render(t, "spdx", d), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "SPDX-2.3" || len(doc.Packages) != len(d.Report.Packages)+1 {
		t.Fatalf("%s, %d packages for %d + the image", doc.Version, len(doc.Packages), len(d.Report.Packages))
	}
	want := fmt.Sprintf("found %d vulnerabilities (3 suppressed)", len(pairs(d.Report)))
	if !strings.Contains(doc.Comment, "no vulnerability records") || !strings.Contains(doc.Comment, want) {
		t.Errorf("comment %q does not say SPDX 2.3 has no vulnerabilities and %q", doc.Comment, want)
	}
	for _, p := range doc.Packages[1:] {
		if len(p.Refs) == 0 || p.Refs[0].Type != "purl" || !strings.HasPrefix(p.Refs[0].Locator, "pkg:deb/debian/") {
			t.Errorf("%s: refs %+v", p.Name, p.Refs)
		}
	}
	if len(doc.Relationships) != len(doc.Packages) {
		t.Errorf("%d relationships for %d packages", len(doc.Relationships), len(doc.Packages))
	}
}

func TestCosignVuln(t *testing.T) {
	d := gated(t, 3)
	var p struct {
		Scanner struct {
			URI    string `json:"uri"`
			Result struct {
				Report     *vuln.VulnerabilityReport `json:"vulnerability_report"`
				Suppressed []report.Suppressed       `json:"suppressed"`
			} `json:"result"`
		} `json:"scanner"`
		Metadata struct{ ScanStartedOn, ScanFinishedOn string } `json:"metadata"`
	}
	if err := json.Unmarshal(render(t, "cosign-vuln", d), &p); err != nil {
		t.Fatal(err)
	}
	got, want := pairs(p.Scanner.Result.Report), pairs(d.Report)
	if len(got) != len(want) || len(p.Scanner.Result.Suppressed) != 3 {
		t.Fatalf("%d pairs and %d suppressed, want %d and 3", len(got), len(p.Scanner.Result.Suppressed), len(want))
	}
	if !strings.HasPrefix(p.Scanner.URI, "pkg:github/openclair/clair") || p.Metadata.ScanStartedOn == "" {
		t.Errorf("scanner %q, metadata %+v", p.Scanner.URI, p.Metadata)
	}
}

func TestUnknownFormat(t *testing.T) {
	err := report.WriteDocument(&bytes.Buffer{}, "xml", &report.Document{Report: &vuln.VulnerabilityReport{}})
	if err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) || !strings.Contains(err.Error(), "sarif") {
		t.Fatalf("error %v does not name the format and the choices", err)
	}
	err = report.WriteSBOM(&bytes.Buffer{}, "sarif", &vuln.IndexReport{}, "x")
	if err == nil || !strings.Contains(err.Error(), `unknown SBOM format "sarif"`) {
		t.Fatalf("error %v", err)
	}
}

func TestWriteSBOM(t *testing.T) {
	ir, _ := realReport(t)
	for _, format := range report.SBOMFormats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WriteSBOM(&buf, format, ir, "nginx:1.21"); err != nil {
				t.Fatal(err)
			}
			validate(t, format, buf.Bytes())
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if _, ok := doc["vulnerabilities"]; ok {
				t.Error("the SBOM lists vulnerabilities")
			}
			var comps []json.RawMessage
			key := map[string]string{"cyclonedx": "components", "spdx": "packages"}[format]
			if err := json.Unmarshal(doc[key], &comps); err != nil {
				t.Fatal(err)
			}
			extra := map[string]int{"cyclonedx": 0, "spdx": 1}[format] // SPDX's image package
			if len(comps) != len(ir.Packages)+extra || len(ir.Packages) != 142 {
				t.Errorf("%d %s for %d packages (the dpkg status has 142)", len(comps), key, len(ir.Packages))
			}
		})
	}
}

func TestTemplate(t *testing.T) {
	d := gated(t, 2)
	dir := t.TempDir()
	good := filepath.Join(dir, "summary.tmpl")
	os.WriteFile(good, []byte(`{{.Image}}: {{len .Findings}} findings, {{len .Suppressed}} suppressed
{{range .Suppressed}}- {{.Vulnerability.Name}} in {{.Package.Name}}: {{.Suppressed.Reason}}
{{end}}{{with index .Findings 0}}{{.Vulnerability.Name}} {{.Package.Name}} {{.FixedIn}} {{purl $.Report .Package}}{{end}}`), 0o644)
	d.Template = good
	out := string(render(t, "template", d))
	want := fmt.Sprintf("docker.io/library/nginx:1.21-bullseye: %d findings, 2 suppressed\n", len(pairs(d.Report)))
	first := report.Rows(d.Report)[0]
	last := first.Vuln.Name + " " + first.Package.Name + " " + first.FixedIn + " " + first.Package.Purl
	if !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "\n"+last) || first.Package.Purl == "" {
		t.Errorf("template output:\n%s\nwant it to start %q and end %q", out, want, last)
	}

	for name, tc := range map[string]struct{ src, want string }{
		"parse":   {"line one\n{{range .Findings}}\n{{.Nope", "bad.tmpl:3: "},
		"field":   {"ok\n\n{{.Report.NoSuchField}}", "bad.tmpl:3:9: executing"},
		"missing": {"", "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.tmpl")
			if name != "missing" {
				os.WriteFile(bad, []byte(tc.src), 0o644)
			}
			var buf bytes.Buffer
			err := report.WriteDocument(&buf, "template", &report.Document{Report: d.Report, Template: bad})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.tmpl") {
				t.Fatalf("error %v, want it to name the file and %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("a failing template wrote %d bytes", buf.Len())
			}
		})
	}
	if err := report.WriteDocument(&bytes.Buffer{}, "template", &report.Document{Report: d.Report}); err == nil || !strings.Contains(err.Error(), "--template") {
		t.Errorf("no template file: %v", err)
	}
}

func TestTemplateTooLarge(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.tmpl")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), report.MaxTemplateSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	err := report.WriteDocument(&bytes.Buffer{}, "template", &report.Document{Report: &vuln.VulnerabilityReport{}, Template: big})
	if err == nil || !strings.Contains(err.Error(), "big.tmpl") {
		t.Fatalf("a template past the bound: %v", err)
	}
}
