package diff

import (
	"testing"

	"github.com/openclair/clair/vuln"
)

func rep(pairs ...[3]string) *vuln.VulnerabilityReport {
	vr := &vuln.VulnerabilityReport{Packages: map[string]*vuln.Package{}, Vulnerabilities: map[string]*vuln.Vulnerability{},
		PackageVulnerabilities: map[string][]string{}}
	for i, p := range pairs {
		pid, vid := p[0]+p[1], p[2]+string(rune('a'+i))
		vr.Packages[pid] = &vuln.Package{ID: pid, Name: p[0], Version: p[1]}
		vr.Vulnerabilities[vid] = &vuln.Vulnerability{ID: vid, Name: p[2]}
		vr.PackageVulnerabilities[pid] = append(vr.PackageVulnerabilities[pid], vid)
	}
	return vr
}

// TestCompare: the findings of util-linux's bullseye update (2.36.1-8+deb11u1
// to u2 fixes CVE-2024-28085 and leaves CVE-2022-0563) and an nginx added.
func TestCompare(t *testing.T) {
	old := rep([3]string{"bsdutils", "1:2.36.1-8+deb11u1", "CVE-2024-28085"}, [3]string{"bsdutils", "1:2.36.1-8+deb11u1", "CVE-2022-0563"})
	new := rep([3]string{"bsdutils", "1:2.36.1-8+deb11u2", "CVE-2022-0563"}, [3]string{"nginx", "1.23.2-1~bullseye", "CVE-2013-0337"})
	r := Compare(old, new)
	if len(r.Fixed) != 1 || r.Fixed[0].Vulnerability.Name != "CVE-2024-28085" {
		t.Errorf("fixed: %+v", r.Fixed)
	}
	if len(r.Introduced) != 1 || r.Introduced[0].Package.Name != "nginx" {
		t.Errorf("introduced: %+v", r.Introduced)
	}
	// Left as the new report has it: the upgraded version.
	if len(r.Left) != 1 || r.Left[0].Package.Version != "1:2.36.1-8+deb11u2" {
		t.Errorf("left: %+v", r.Left)
	}
	only := Only(new, r.Introduced)
	if len(only.PackageVulnerabilities) != 1 || len(only.Vulnerabilities) != 1 || len(only.Packages) != 2 {
		t.Errorf("only: %+v", only)
	}
	if r := Compare(new, new); len(r.Fixed)+len(r.Introduced) != 0 || len(r.Left) != 2 {
		t.Errorf("same: %+v", r)
	}
}
