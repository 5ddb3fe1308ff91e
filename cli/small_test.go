package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSmallThings: --version, -h exiting 0, no zero dates, singular counts.
func TestSmallThings(t *testing.T) {
	out, _, code := clairctl(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "clairctl version ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	out, _, code = clairctl(t, "-h")
	if code != 0 || !strings.Contains(out, "Exit status:") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
	db, img := debianScan(t)
	// Off a terminal, no progress lines: nothing redrawn in place.
	feedURL := "file://" + abs(t, filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"))
	_, errOut, _ := clairctl(t, "scan", "--db", filepath.Join(t.TempDir(), "fresh.db"), "--feed", "debian="+feedURL, img)
	if strings.ContainsAny(errOut, "\r\x1b") || !strings.Contains(errOut, "updated: 1894 advisories") {
		t.Errorf("stderr off a terminal: %q", errOut)
	}
	out, _, _ = clairctl(t, "scan", "--db", db, "--skip-update", "--format", "json", img)
	if strings.Contains(out, "0001-01-01") {
		t.Error("a zero date in the JSON report")
	}
	// One finding is "1 vulnerability".
	out, _, _ = clairctl(t, "scan", "--db", db, "--skip-update", "--severity", "Low", "--ignore-unfixed", img)
	if !strings.Contains(out, "Total: 0 vulnerabilities") {
		t.Errorf("table: %s", out)
	}
	out, _, _ = clairctl(t, "scan", "--db", db, "--skip-update", "--severity", "Low", img)
	out2, _, _ := clairctl(t, "scan", "--db", db, "--skip-update", "--severity", "Low", "--vex", writeTemp(t, `{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
  {"vulnerability": {"name": "CVE-2013-0337"}, "status": "not_affected", "justification": "vulnerable_code_not_present"}]}`), img)
	if !strings.Contains(out, "Total: 2 vulnerabilities (Low: 2)") || !strings.Contains(out2, "Total: 1 vulnerability (Low: 1)") {
		t.Errorf("tables:\n%s\n%s", out, out2)
	}
}
