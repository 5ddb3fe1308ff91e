package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

// TestScanEnrichedAlpine: a scan of the real alpine:3.18.9 image updates the
// enrichment feeds with the image's own (no --only; the bulky CVE List only
// when updated by name, which is done first here), and the one finding,
// CVE-2024-9143 in openssl, which Alpine's secdb gives no severity and NVD
// has not analysed yet, takes CISA-ADP's CVSS 3.1 severity (Medium, 4.3)
// from the CVE record; the report carries it as Clair's clair.cvss
// enrichment, and the table shows it marked as CVSS's.
func TestScanEnrichedAlpine(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	en := mustAbs(t, filepath.Join(root, "testdata/feeds/enrich"))
	cvelist := "cvelist=file://" + filepath.Join(en, "cvelist/cvelistV5-main.tar.gz")
	args := []string{"--db", db, "scan",
		"--feed", "alpine=file://" + mustAbs(t, filepath.Join(root, "testdata/feeds/alpine")),
		"--feed", "nvd=file://" + filepath.Join(en, "nvd"),
		"--feed", cvelist,
		"--feed", "epss=file://" + filepath.Join(en, "epss/epss_scores-current.csv.gz"),
		"--feed", "kev=file://" + filepath.Join(en, "kev/known_exploited_vulnerabilities.json"),
	}
	img := "docker-archive:" + filepath.Join(root, "testdata/images/alpine-3.18.9.tar")
	// The CVE List is bulky: scan leaves it to an explicit update.
	if _, errOut, code := clairctl(t, "--db", db, "update", "--only", "cvelist", "--feed", cvelist); code != 0 {
		t.Fatalf("update cvelist: exit %d: %s", code, errOut)
	}
	out, errOut, code := clairctl(t, append(args, "--format", "json", img)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range []string{"alpine", "nvd", "epss", "kev"} {
		if !strings.Contains(errOut, "  "+f+" ") {
			t.Errorf("feed %s not updated:\n%s", f, errOut)
		}
	}
	if strings.Contains(errOut, "cvelist") {
		t.Errorf("scan updated the bulky cvelist feed unasked:\n%s", errOut)
	}
	if !strings.Contains(out, `"message/vnd.clair.map.vulnerability; enricher=clair.cvss schema=https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema"`) {
		t.Errorf("no clair.cvss enrichment key in the JSON")
	}
	var vr struct {
		vuln.VulnerabilityReport
		Enrichments map[string][]map[string][]json.RawMessage `json:"enrichments"`
	}
	if err := json.Unmarshal([]byte(out), &vr); err != nil {
		t.Fatal(err)
	}
	var id string
	for k, v := range vr.Vulnerabilities {
		if v.Name == "CVE-2024-9143" {
			id = k
			if v.NormalizedSeverity != vuln.Medium || v.SeveritySource != "cvss:cisa-adp 3.1" {
				t.Errorf("CVE-2024-9143: severity %v from %q, want Medium from cvss:cisa-adp 3.1", v.NormalizedSeverity, v.SeveritySource)
			}
		}
	}
	if id == "" {
		t.Fatal("CVE-2024-9143 not reported")
	}
	cvss := vr.Enrichments[vuln.CVSSEnrichment]
	if len(cvss) != 1 || len(cvss[0][id]) != 1 {
		t.Fatalf("clair.cvss enrichment %v", cvss)
	}
	var obj map[string]any
	if err := json.Unmarshal(cvss[0][id][0], &obj); err != nil || obj["baseScore"] != 4.3 ||
		obj["vectorString"] != "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N" || obj["baseSeverity"] != "MEDIUM" {
		t.Errorf("clair.cvss object %s (%v)", cvss[0][id][0], err)
	}

	table, errOut, code := clairctl(t, append(args, "--skip-update", img)...)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	found := false
	for _, l := range strings.Split(table, "\n") {
		if strings.Contains(l, "CVE-2024-9143") {
			found = true
			if !strings.Contains(l, "Medium (CVSS)") || !strings.Contains(l, " 4.3 ") || !strings.Contains(l, "lib/apk/db/installed") {
				t.Errorf("row %q", l)
			}
		}
	}
	if !found {
		t.Errorf("table lacks CVE-2024-9143:\n%s", table)
	}
}

// TestScanEnrichedDebian (the README's offline example): in the real Debian
// 11 nginx image, CVE-2024-9143 (openssl) is "not yet assigned" in Debian's
// tracker: the report takes CISA-ADP's CVSS severity for it, and keeps
// Debian's own for the others.
func TestScanEnrichedDebian(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	en := mustAbs(t, filepath.Join(root, "testdata/feeds/enrich"))
	out, errOut, code := clairctl(t, "--db", db, "scan", "--format", "json", "--only", "debian,nvd,cvelist,epss,kev",
		"--feed", "debian=file://"+mustAbs(t, filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json")),
		"--feed", "nvd=file://"+filepath.Join(en, "nvd"),
		"--feed", "cvelist=file://"+filepath.Join(en, "cvelist/cvelistV5-main.tar.gz"),
		"--feed", "epss=file://"+filepath.Join(en, "epss/epss_scores-current.csv.gz"),
		"--feed", "kev=file://"+filepath.Join(en, "kev/known_exploited_vulnerabilities.json"),
		"docker-archive:"+filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "nvd      updated: 3 CVE records") {
		t.Errorf("stderr:\n%s", errOut)
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal([]byte(out), &vr); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range vr.Vulnerabilities {
		switch {
		case v.Name == "CVE-2024-9143":
			n++
			if v.Severity != "not yet assigned" || v.NormalizedSeverity != vuln.Medium || v.SeveritySource != "cvss:cisa-adp 3.1" {
				t.Errorf("CVE-2024-9143: %q → %v from %q", v.Severity, v.NormalizedSeverity, v.SeveritySource)
			}
		case v.NormalizedSeverity != vuln.Unknown && v.SeveritySource != "debian":
			t.Errorf("%s: %v from %q, want Debian's", v.Name, v.NormalizedSeverity, v.SeveritySource)
		}
	}
	if n == 0 {
		t.Error("CVE-2024-9143 not reported")
	}
}
