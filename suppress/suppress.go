// Package suppress takes findings out of a vulnerability report with
// accountability: an ignore file (.clairignore.yaml) or VEX statements
// (OpenVEX 0.2, CycloneDX VEX) say which findings do not apply and why, and
// every finding taken out is returned with that reason, so that reports
// list it apart instead of dropping it.
package suppress

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/gate"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// MaxFileSize bounds an ignore or VEX file: they are written by people or
// tools for one image, never near this.
const MaxFileSize = 16 << 20

// VEX statuses (OpenVEX's names; CycloneDX analysis states map onto them).
const (
	NotAffected        = "not_affected"
	Fixed              = "fixed"
	Affected           = "affected"
	UnderInvestigation = "under_investigation"
)

// Rule is one ignore entry or VEX statement.
type Rule struct {
	// IDs are the vulnerability id and its aliases; a finding matches when
	// its name or any of its aliases is one of them (case-insensitive).
	IDs []string
	// Package, Version and Path narrow an ignore entry; empty matches all.
	// Path is a path.Match pattern against the package's path.
	Package, Version, Path string
	// Products narrow a VEX statement to packages by package URL. Empty
	// (or Whole) applies the statement to every package of the image.
	Products []packageurl.PackageURL
	Whole    bool
	// imageDigest, when set, is the only image the products apply to
	// (OpenVEX: an oci product with subcomponents).
	imageDigest string
	// Expires, when not zero, is when an ignore entry stops applying.
	Expires     time.Time
	expiresText string // as written, for warnings
	// Status is the VEX status; "" for ignore entries (which suppress).
	Status string
	Reason string
	// Source names where the rule came from ("ignore-file F line N",
	// "vex F").
	Source string
}

func (r *Rule) matchesID(v *vuln.Vulnerability) bool {
	for _, id := range r.IDs {
		if strings.EqualFold(id, v.Name) {
			return true
		}
		for _, a := range v.Aliases {
			if strings.EqualFold(id, a) {
				return true
			}
		}
	}
	return false
}

func (r *Rule) matchesPackage(p *vuln.Package, manifest string) bool {
	if p == nil {
		return false
	}
	if r.Package != "" && r.Package != p.Name && (p.Source == nil || r.Package != p.Source.Name) {
		return false
	}
	if r.Version != "" && r.Version != p.Version {
		return false
	}
	if r.Path != "" {
		ok, _ := path.Match(r.Path, p.Path)
		if !ok && r.Path != p.Path {
			return false
		}
	}
	if r.imageDigest != "" && r.imageDigest != manifest {
		return false
	}
	if r.Whole || len(r.Products) == 0 {
		return true
	}
	for _, pu := range r.Products {
		if matchPurl(pu, p, manifest) {
			return true
		}
	}
	return false
}

// matchPurl: a package URL names one of the image's packages (by name, or
// its source package's name, and version when it has one) or the image
// itself (oci or docker type; its version, when given, is the manifest
// digest).
func matchPurl(pu packageurl.PackageURL, p *vuln.Package, manifest string) bool {
	switch pu.Type {
	case packageurl.TypeOCI, packageurl.TypeDocker:
		return pu.Version == "" || pu.Version == manifest
	}
	if pp, err := packageurl.FromString(p.Purl); err == nil && pu.Type != "" && pp.Type != pu.Type {
		return false
	}
	name := strings.EqualFold(pu.Name, p.Name) || (p.Source != nil && strings.EqualFold(pu.Name, p.Source.Name))
	if !name {
		return false
	}
	if pu.Version == "" {
		return true
	}
	return pu.Version == p.Version || (p.Source != nil && pu.Version == p.Source.Version)
}

// Result is a report with its suppressions applied.
type Result struct {
	Report     *vuln.VulnerabilityReport
	Suppressed []report.Suppressed
	// Warnings are entries that expired (and so no longer suppress) and
	// entries that matched nothing.
	Warnings []string
}

// Apply takes out of vr the findings the rules suppress, as of now. VEX
// statements are read first, the last matching one in the order given
// winning (a later statement supersedes an earlier one): not_affected and
// fixed suppress; affected and under_investigation keep the finding, and an
// ignore entry does not override them. Ignore entries then suppress what
// they match until they expire. vr is not modified.
func Apply(vr *vuln.VulnerabilityReport, rules []Rule, now time.Time) *Result {
	res := &Result{}
	used := make([]bool, len(rules))
	overridden := make([]string, len(rules))
	keep := func(p *vuln.Package, v *vuln.Vulnerability) bool {
		var vex *Rule
		for i := range rules {
			r := &rules[i]
			if r.Status == "" || !r.matchesID(v) || !r.matchesPackage(p, vr.ManifestHash) {
				continue
			}
			used[i] = true
			vex = r
		}
		if vex != nil {
			switch vex.Status {
			case NotAffected, Fixed:
				res.Suppressed = append(res.Suppressed, report.Suppressed{Package: p, Vulnerability: v,
					Reason: vex.Reason, Source: vex.Source})
				return false
			default:
				for i := range rules {
					r := &rules[i]
					if r.Status == "" && r.matchesID(v) && r.matchesPackage(p, vr.ManifestHash) {
						used[i] = true
						overridden[i] = vex.Source
					}
				}
				return true
			}
		}
		for i := range rules {
			r := &rules[i]
			if r.Status != "" || !r.matchesID(v) || !r.matchesPackage(p, vr.ManifestHash) {
				continue
			}
			used[i] = true
			if !r.Expires.IsZero() && !now.Before(r.Expires) {
				continue
			}
			res.Suppressed = append(res.Suppressed, report.Suppressed{Package: p, Vulnerability: v,
				Reason: r.Reason, Source: r.Source})
			return false
		}
		return true
	}
	res.Report = gate.Keep(vr, keep)
	for i := range rules {
		r := &rules[i]
		switch {
		case !r.Expires.IsZero() && !now.Before(r.Expires):
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %s expired on %s: it no longer suppresses anything",
				r.Source, r.IDs[0], r.expiresText))
		case overridden[i] != "":
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %s: %s says affected; the entry does not apply",
				r.Source, r.IDs[0], overridden[i]))
		case r.Status == "" && !used[i]:
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %s matches no finding of this image", r.Source, r.IDs[0]))
		}
	}
	sort.Slice(res.Suppressed, func(i, j int) bool {
		a, b := res.Suppressed[i], res.Suppressed[j]
		if a.Package.Name != b.Package.Name {
			return a.Package.Name < b.Package.Name
		}
		return a.Vulnerability.Name < b.Vulnerability.Name
	})
	return res
}
