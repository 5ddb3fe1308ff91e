package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// debianScan is a store holding the debian-11-nginx image and the Debian
// tracker excerpt, and the arguments that scan it from the stored data. The
// image has 389 findings: Low 2 (coreutils CVE-2016-2781, nginx
// CVE-2013-0337, both unfixed), Negligible 106, Unknown 281.
func debianScan(t testing.TB) (db string, img string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "clair.db")
	img = "docker-archive:" + abs(t, filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	feedURL := "file://" + abs(t, filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"))
	if _, errOut, code := clairctl(t, "update", "--db", db, "--feed", "debian="+feedURL); code != 0 {
		t.Fatalf("update: exit %d: %s", code, errOut)
	}
	return db, img
}

func abs(t testing.TB, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// docJSON is the scan JSON with the document's additive fields.
type docJSON struct {
	vuln.VulnerabilityReport
	Suppressed []report.Suppressed `json:"suppressed"`
	Warnings   []string            `json:"warnings"`
}

func decodeDoc(t *testing.T, out string) *docJSON {
	t.Helper()
	var d docJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return &d
}

func TestGateExitCodes(t *testing.T) {
	db, img := debianScan(t)
	scan := func(args ...string) (string, string, int) {
		return clairctl(t, append(append([]string{"scan", "--db", db, "--skip-update"}, args...), img)...)
	}
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 0, ""},
		{[]string{"--fail-on", "Low"}, 1, "gate: 2 findings at or above the gate (Low or above)"},
		{[]string{"--fail-on", "medium"}, 0, ""},
		{[]string{"--fail-on", "Critical,kev"}, 0, ""},
		{[]string{"--fail-on-kev"}, 0, ""},
		{[]string{"--fail-on", "Low", "--ignore-unfixed"}, 0, ""},
		{[]string{"--fail-on", "Negligible", "--severity", "Negligible"}, 1, "gate: 106 findings"},
		{[]string{"--fail-on", "Unknown", "--min-severity", "Low"}, 1, "gate: 2 findings"},
		{[]string{"--fail-on", "Low", "--severity", "Unknown,Negligible"}, 0, ""},
		{[]string{"--fail-on", "Bogus"}, 2, "--fail-on \"Bogus\""},
		{[]string{"--severity", "Hihg"}, 2, "unknown severity \"Hihg\""},
		{[]string{"--format", "yaml"}, 2, "--format \"yaml\": want one of table, json"},
		{[]string{"--ignore-file", "/nonexistent/ignore.yaml"}, 2, "/nonexistent/ignore.yaml"},
		{[]string{"--template", "x.tmpl"}, 2, "--template: applies to --format template, not table"},
	} {
		_, errOut, code := scan(c.args...)
		if code != c.code || !strings.Contains(errOut, c.stderr) {
			t.Errorf("scan %v: exit %d (want %d), stderr:\n%s", c.args, code, c.code, errOut)
		}
	}

	// The filters shape what is shown: --severity Low shows the two Lows.
	out, errOut, code := scan("--severity", "low", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := pairs(&decodeDoc(t, out).VulnerabilityReport)
	if len(p) != 2 || p["coreutils CVE-2016-2781"] != "" || p["nginx CVE-2013-0337"] != "" {
		t.Errorf("--severity low: %v", p)
	}
	// The seeds' spelling, --minimum-severity, is --min-severity.
	out, _, _ = scan("--minimum-severity", "Negligible", "--output-format", "json")
	if n := len(pairs(&decodeDoc(t, out).VulnerabilityReport)); n != 108 {
		t.Errorf("--minimum-severity Negligible: %d findings, want 108", n)
	}
	out, _, _ = scan("--ignore-unfixed", "--format", "json")
	for k, fixed := range pairs(&decodeDoc(t, out).VulnerabilityReport) {
		if fixed == "" {
			t.Errorf("--ignore-unfixed shows %s", k)
		}
	}
}

func TestOutputFile(t *testing.T) {
	db, img := debianScan(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	stdout, errOut, code := clairctl(t, "scan", "--db", db, "--skip-update", "--format", "json", "--output", out, img)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pairs(&decodeDoc(t, string(b)).VulnerabilityReport)); n != 389 {
		t.Errorf("%d findings in %s", n, out)
	}
	// A failed run leaves nothing behind: no file, no temporary.
	bad := filepath.Join(dir, "bad.json")
	if _, _, code := clairctl(t, "scan", "--db", db, "--skip-update", "--format", "json", "--output", bad, "docker-archive:/nonexistent.tar"); code != 2 {
		t.Errorf("exit %d", code)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left: %v", ents)
	}
}

func TestIgnoreFile(t *testing.T) {
	db, img := debianScan(t)
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, ".clairignore.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The default file in the working directory: one live entry, one
	// expired (it warns and no longer suppresses).
	write(`ignore:
  - id: cve-2016-2781
    package: coreutils
    reason: chroot --userspec is not used in this image
  - id: CVE-2013-0337
    package: nginx
    expires: 2020-01-31
    reason: logs are not world-readable
`)
	out, errOut, code := clairctl(t, "scan", "--db", db, "--skip-update", "--fail-on", "Low", img)
	if code != 1 || !strings.Contains(errOut, "gate: 1 finding at or above") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "CVE-2013-0337 expired on 2020-01-31") || !strings.Contains(out, "expired on 2020-01-31") {
		t.Errorf("no expiry warning on stderr and in the report:\n%s\n%s", errOut, out)
	}
	if !strings.Contains(out, "Suppressed: 1 finding") || !strings.Contains(out, "chroot --userspec is not used in this image") ||
		!strings.Contains(out, "ignore-file .clairignore.yaml line 2") {
		t.Errorf("table does not list the suppressed finding with its reason:\n%s", out)
	}
	if !strings.Contains(out, "Total: 388 vulnerabilities") {
		t.Errorf("suppressed finding counted in the total:\n%s", out)
	}

	// Both live: the gate passes, and JSON lists both apart with reasons.
	write(`- id: CVE-2016-2781
  reason: chroot --userspec is not used
- id: CVE-2013-0337
  package: nginx
  version: 1.23.2-1~bullseye
  expires: 2999-01-01
  reason: logs are not world-readable
`)
	out, errOut, code = clairctl(t, "scan", "--db", db, "--skip-update", "--fail-on", "Low", "--format", "json", img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	d := decodeDoc(t, out)
	if len(d.Suppressed) != 2 || d.Suppressed[0].Package.Name != "coreutils" || d.Suppressed[1].Reason != "logs are not world-readable" {
		t.Errorf("suppressed: %+v", d.Suppressed)
	}
	if _, ok := pairs(&d.VulnerabilityReport)["nginx CVE-2013-0337"]; ok {
		t.Error("suppressed finding still in the report")
	}

	// Bad files are errors naming the file and line, before any work.
	for _, c := range []struct{ file, want string }{
		{"- id: CVE-1\n  reasn: typo\n", `.clairignore.yaml: line 2: unknown field "reasn"`},
		{"- id: CVE-1\n  expires: next year\n", `.clairignore.yaml: line 2: expires "next year"`},
		{"- package: x\n", `.clairignore.yaml: line 1: entry without an id`},
		{"ignore: [\n", `.clairignore.yaml`},
	} {
		write(c.file)
		_, errOut, code := clairctl(t, "scan", "--db", db, "--skip-update", img)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %s", c.file, code, errOut)
		}
	}
}

func TestVEX(t *testing.T) {
	db, img := debianScan(t)
	dir := t.TempDir()
	t.Chdir(dir) // no ignore file here
	openvex := filepath.Join(dir, "coreutils.openvex.json")
	os.WriteFile(openvex, []byte(`{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/nginx-image-1",
  "author": "Image maintainers",
  "timestamp": "2026-01-08T18:02:03Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2016-2781"},
      "products": [{"@id": "pkg:deb/debian/coreutils@8.32-4%2Bb1?arch=amd64"}],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "chroot is never run"
    }
  ]
}`), 0o644)
	cdx := filepath.Join(dir, "nginx.cdx.json")
	os.WriteFile(cdx, []byte(`{
  "bomFormat": "CycloneDX",
  "specVersion": "1.4",
  "version": 1,
  "components": [{"bom-ref": "nginx-pkg", "type": "application", "name": "nginx", "purl": "pkg:deb/debian/nginx@1.23.2-1~bullseye?arch=amd64"}],
  "vulnerabilities": [
    {
      "id": "CVE-2013-0337",
      "analysis": {"state": "resolved", "detail": "log permissions fixed in the image build"},
      "affects": [{"ref": "nginx-pkg"}]
    }
  ]
}`), 0o644)
	out, errOut, code := clairctl(t, "scan", "--db", db, "--skip-update", "--fail-on", "Low", "--vex", openvex, "--vex", cdx, "--format", "json", img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	d := decodeDoc(t, out)
	if len(d.Suppressed) != 2 {
		t.Fatalf("suppressed: %+v", d.Suppressed)
	}
	if s := d.Suppressed[0]; s.Package.Name != "coreutils" || s.Reason != "not_affected: vulnerable_code_not_in_execute_path: chroot is never run" || s.Source != "vex "+openvex {
		t.Errorf("openvex suppression: %+v", s)
	}
	if s := d.Suppressed[1]; s.Package.Name != "nginx" || !strings.HasPrefix(s.Reason, "resolved") {
		t.Errorf("cyclonedx suppression: %+v", s)
	}

	// VEX "affected" keeps the finding even when the ignore file would
	// take it out.
	os.WriteFile(filepath.Join(dir, ".clairignore.yaml"), []byte("- id: CVE-2016-2781\n  reason: we think not\n"), 0o644)
	aff := filepath.Join(dir, "affected.json")
	os.WriteFile(aff, []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
  {"vulnerability": {"name": "CVE-2016-2781"}, "products": [{"@id": "pkg:deb/debian/coreutils"}], "status": "affected", "action_statement": "upgrade when fixed"}]}`), 0o644)
	_, errOut, code = clairctl(t, "scan", "--db", db, "--skip-update", "--fail-on", "Low", "--vex", aff, "--severity", "Low", img)
	if code != 1 || !strings.Contains(errOut, "gate: 2 findings") {
		t.Errorf("affected: exit %d: %s", code, errOut)
	}

	// A malformed VEX file names the file and line or field.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\"@context\": \"https://openvex.dev/ns/v0.2.0\",\n\"statements\": [{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"not_affected\"}]}"), 0o644)
	_, errOut, code = clairctl(t, "scan", "--db", db, "--skip-update", "--vex", bad, img)
	if code != 2 || !strings.Contains(errOut, bad+": statements[0]: status not_affected needs a justification") {
		t.Errorf("bad vex: exit %d: %s", code, errOut)
	}
	os.WriteFile(bad, []byte("{\"bomFormat\": \"CycloneDX\",\n\"vulnerabilities\": [\n{\"id\": 7}]}"), 0o644)
	_, errOut, code = clairctl(t, "scan", "--db", db, "--skip-update", "--vex", bad, img)
	if code != 2 || !strings.Contains(errOut, bad+": line 3: vulnerabilities.id") {
		t.Errorf("bad vex: exit %d: %s", code, errOut)
	}
}

func writeTemp(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
