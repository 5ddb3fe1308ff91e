// Package diff compares the vulnerability reports of two images (an
// upgrade's before and after): which findings the upgrade fixes, which it
// introduces and which it leaves. A finding is a (package name,
// vulnerability name) pair, so a package upgraded to a still vulnerable
// version is "left", not fixed and introduced.
package diff

import (
	"sort"

	"github.com/openclair/clair/vuln"
)

// Finding is one (package, vulnerability) pair of a report.
type Finding struct {
	Package       *vuln.Package       `json:"package"`
	Vulnerability *vuln.Vulnerability `json:"vulnerability"`
}

// Result is what changed from Old to New.
type Result struct {
	// Fixed are in the old report only, Introduced in the new one only;
	// Left are in both (as the new report has them).
	Fixed      []Finding `json:"fixed"`
	Introduced []Finding `json:"introduced"`
	Left       []Finding `json:"left"`
}

type key struct{ pkg, vuln string }

func findings(vr *vuln.VulnerabilityReport) map[key]Finding {
	out := map[key]Finding{}
	for pid, vids := range vr.PackageVulnerabilities {
		p := vr.Packages[pid]
		if p == nil {
			continue
		}
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			if v == nil {
				continue
			}
			k := key{p.Name, v.Name}
			if _, dup := out[k]; !dup {
				out[k] = Finding{Package: p, Vulnerability: v}
			}
		}
	}
	return out
}

// Compare says what changed from old to new.
func Compare(old, new *vuln.VulnerabilityReport) *Result {
	o, n := findings(old), findings(new)
	r := &Result{Fixed: []Finding{}, Introduced: []Finding{}, Left: []Finding{}}
	for k, f := range o {
		if _, ok := n[k]; !ok {
			r.Fixed = append(r.Fixed, f)
		}
	}
	for k, f := range n {
		if _, ok := o[k]; ok {
			r.Left = append(r.Left, f)
		} else {
			r.Introduced = append(r.Introduced, f)
		}
	}
	for _, s := range [][]Finding{r.Fixed, r.Introduced, r.Left} {
		sortFindings(s)
	}
	return r
}

// sortFindings orders most severe first, then by package and
// vulnerability name.
func sortFindings(s []Finding) {
	sort.Slice(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Vulnerability.NormalizedSeverity != b.Vulnerability.NormalizedSeverity {
			return a.Vulnerability.NormalizedSeverity > b.Vulnerability.NormalizedSeverity
		}
		if a.Package.Name != b.Package.Name {
			return a.Package.Name < b.Package.Name
		}
		return a.Vulnerability.Name < b.Vulnerability.Name
	})
}

// Only returns a shallow copy of vr holding only the given findings (by
// package name and vulnerability name): the introduced findings as a
// report of their own, for formats that render reports.
func Only(vr *vuln.VulnerabilityReport, fs []Finding) *vuln.VulnerabilityReport {
	want := map[key]bool{}
	for _, f := range fs {
		want[key{f.Package.Name, f.Vulnerability.Name}] = true
	}
	out := *vr
	out.PackageVulnerabilities = map[string][]string{}
	out.Vulnerabilities = map[string]*vuln.Vulnerability{}
	for pid, vids := range vr.PackageVulnerabilities {
		p := vr.Packages[pid]
		if p == nil {
			continue
		}
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			if v != nil && want[key{p.Name, v.Name}] {
				out.PackageVulnerabilities[pid] = append(out.PackageVulnerabilities[pid], vid)
				out.Vulnerabilities[vid] = v
			}
		}
	}
	return &out
}
