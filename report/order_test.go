package report_test

import (
	"bytes"
	"encoding/json"
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
