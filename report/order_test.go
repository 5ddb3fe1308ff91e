package report_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// sameJarTwice is what a scan of an image holding Debian's spring-beans
// 4.3.30 jar under two names reports: two packages alike in name, version
// and vulnerability, told apart only by id and path. Both CVSS keys the
// enricher has used score CVE-2022-22965 9.8, with different vectors, as
// NVD's and a CNA's scores may.
func sameJarTwice() *vuln.VulnerabilityReport {
	pkg := func(id, path string) *vuln.Package {
		return &vuln.Package{ID: id, Name: "org.springframework:spring-beans", Version: "4.3.30.RELEASE", Ecosystem: "maven", Path: path}
	}
	cvss := func(vector string) []any {
		return []any{json.RawMessage(`{"v1":[{"version":"3.1","vectorString":"` + vector + `","baseScore":9.8,"baseSeverity":"CRITICAL"}]}`)}
	}
	return &vuln.VulnerabilityReport{
		Packages: map[string]*vuln.Package{
			"p2": pkg("p2", "usr/share/java/spring3-beans.jar"),
			"p1": pkg("p1", "usr/share/java/spring3-beans-3.x.jar"),
		},
		Vulnerabilities: map[string]*vuln.Vulnerability{
			"v1": {ID: "v1", Name: "CVE-2022-22965", NormalizedSeverity: vuln.Critical, FixedInVersion: "5.2.20.RELEASE"},
		},
		PackageVulnerabilities: map[string][]string{"p1": {"v1"}, "p2": {"v1"}},
		Enrichments: map[string][]any{
			report.CVSSKeyPrefix + " schema=https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema": cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
			report.CVSSKeyPrefix + " schema=https://csrc.nist.gov/schema/nvd/feed/1.1/cvss-v3.x.json":         cvss("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
		},
	}
}

// TestRowsOrderTies: rows equal in everything the order looks at (severity,
// package name, vulnerability, version) still come out in one order, by
// path: map iteration must not reach the table.
func TestRowsOrderTies(t *testing.T) {
	vr := sameJarTwice()
	for range 50 {
		rows := report.Rows(vr)
		if len(rows) != 2 || rows[0].Package.Path != "usr/share/java/spring3-beans-3.x.jar" || rows[1].Package.Path != "usr/share/java/spring3-beans.jar" {
			t.Fatalf("rows in order %s, %s; want by path", rows[0].Package.Path, rows[1].Package.Path)
		}
	}
}

// TestFindingsCVSSTies: when two CVSS enrichment keys score a
// vulnerability alike, the vector shown is always the same one, that of
// the first key in byte order.
func TestFindingsCVSSTies(t *testing.T) {
	d := &report.Document{Report: sameJarTwice(), Image: "img"}
	var first []byte
	for range 50 {
		active, _ := report.Findings(d)
		if len(active) != 2 || active[0].CVSS == nil {
			t.Fatalf("findings %+v", active)
		}
		if got := active[0].CVSS.VectorString; got != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" {
			t.Fatalf("vector %s, want the api/2.0 key's", got)
		}
		var buf bytes.Buffer
		if err := report.WriteDocument(&buf, "sarif", d); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = buf.Bytes()
		} else if !bytes.Equal(first, buf.Bytes()) {
			t.Fatal("sarif output differs between two renderings of one report")
		}
	}
}

// TestRowsOrder checks Rows' order on random reports (few severities and
// names, so that every tie-break is reached) against the documented one,
// compared field by field: most severe first, then by package name,
// vulnerability name, version, path and package id.
func TestRowsOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	for range 50 {
		vr := &vuln.VulnerabilityReport{Packages: map[string]*vuln.Package{}, Vulnerabilities: map[string]*vuln.Vulnerability{},
			PackageVulnerabilities: map[string][]string{}}
		for i := range 40 {
			id := fmt.Sprint("v", i)
			vr.Vulnerabilities[id] = &vuln.Vulnerability{ID: id, Name: pick("CVE-2024-1", "CVE-2024-10", "CVE-2023-9"),
				NormalizedSeverity: vuln.Severity(r.IntN(3) + 1)}
		}
		for i := range 30 {
			id := fmt.Sprint("p", i)
			vr.Packages[id] = &vuln.Package{ID: id, Name: pick("zlib", "bash", "libc6", "Bash", "b"), Version: pick("1.0", "1.0-1"), Path: pick("", "a", "b")}
			for range r.IntN(4) {
				vid := fmt.Sprint("v", r.IntN(40))
				if !slices.Contains(vr.PackageVulnerabilities[id], vid) {
					vr.PackageVulnerabilities[id] = append(vr.PackageVulnerabilities[id], vid)
				}
			}
		}
		rows := report.Rows(vr)
		for i := 1; i < len(rows); i++ {
			a, b := rows[i-1], rows[i]
			c := cmp.Or(cmp.Compare(b.Vuln.NormalizedSeverity, a.Vuln.NormalizedSeverity),
				strings.Compare(a.Package.Name, b.Package.Name), strings.Compare(a.Vuln.Name, b.Vuln.Name),
				strings.Compare(a.Installed, b.Installed), strings.Compare(a.Package.Path, b.Package.Path),
				strings.Compare(a.Package.ID, b.Package.ID))
			if c > 0 {
				t.Fatalf("row %d (%s %s %s) after row %d (%s %s %s)", i, b.Vuln.NormalizedSeverity, b.Package.Name, b.Vuln.Name,
					i-1, a.Vuln.NormalizedSeverity, a.Package.Name, a.Vuln.Name)
			}
		}
	}
}
