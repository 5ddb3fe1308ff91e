package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/openclair/clair/gate"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/report"
)

// TestKEVGate: the real debian-11-nginx report with the KEV enrichment an
// enrichment feed adds from CISA's real catalog (2025.08.25: CVE-2023-4863
// libwebp, CVE-2023-44487 nghttp2 and nginx, CVE-2023-4911 glibc) fails
// --fail-on kev and --fail-on-kev, on exactly those findings.
func TestKEVGate(t *testing.T) {
	catalog := sharedtest.Path(t, "feeds/kev/known_exploited_vulnerabilities.json")
	b, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	var kev struct {
		CatalogVersion  string `json:"catalogVersion"`
		Vulnerabilities []struct {
			CVE       string `json:"cveID"`
			Name      string `json:"vulnerabilityName"`
			DateAdded string `json:"dateAdded"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &kev); err != nil {
		t.Fatal(err)
	}
	db, img := debianScan(t)
	out, errOut, code := clairctl(t, "scan", "--db", db, "--skip-update", "--format", "json", img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	vr := decodeDoc(t, out).VulnerabilityReport
	byCVE := map[string]int{}
	for i, k := range kev.Vulnerabilities {
		byCVE[k.CVE] = i
	}
	entries := map[string][]map[string]string{}
	for vid, v := range vr.Vulnerabilities {
		if i, ok := byCVE[v.Name]; ok {
			k := kev.Vulnerabilities[i]
			entries[vid] = []map[string]string{{"cve": k.CVE, "vulnerability_name": k.Name, "catalog_version": kev.CatalogVersion, "date_added": k.DateAdded}}
		}
	}
	vr.Enrichments = map[string][]any{gate.KEVEnrichment: {entries}}
	want := map[string]bool{}
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			if _, ok := entries[vid]; ok {
				want[vr.Packages[pid].Name+" "+vr.Vulnerabilities[vid].Name] = true
			}
		}
	}
	if !want["nginx CVE-2023-44487"] || !want["libnghttp2-14 CVE-2023-44487"] || !want["libc6 CVE-2023-4911"] {
		t.Errorf("KEV findings: %v", want)
	}
	for _, flags := range []outputFlags{{format: "table", failOn: "kev"}, {format: "table", failOnKEV: true}, {format: "table", failOn: "Critical,KEV"}} {
		of := flags
		if err := of.prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		d := of.document(&strings.Builder{}, &vr, img, nil)
		err := of.verdict(nil, docsOf(d), false)
		var e exitError
		if !errors.As(err, &e) || e.code != gate.ExitFindings || !strings.Contains(err.Error(), fmt.Sprintf("gate: %d findings", len(want))) {
			t.Errorf("%+v: %v (want %d findings)", flags, err, len(want))
		}
	}
	if len(want) < 4 {
		t.Errorf("KEV findings: %v", want)
	}
}

func docsOf(ds ...*report.Document) []*report.Document { return ds }
