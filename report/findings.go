package report

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/vuln"
)

// CVSSKeyPrefix starts the enrichment key Clair's CVSS enricher writes
// under. The schema part of the key changed when claircore moved from NVD's
// 1.1 feeds to its 2.0 API ("…schema=https://csrc.nist.gov/schema/nvd/
// feed/1.1/cvss-v3.x.json", then "…/nvd/api/2.0/cve_api_json_2.0.schema");
// both hold the same shape — a list with one map from vulnerability id to
// NVD CVSS v3 objects — so the formats read any key with this prefix.
const CVSSKeyPrefix = "message/vnd.clair.map.vulnerability; enricher=clair.cvss"

// CVSS is the part of an NVD CVSS v3 object the formats show.
type CVSS struct {
	Version      string  `json:"version"`
	VectorString string  `json:"vectorString"`
	BaseScore    float64 `json:"baseScore"`
	BaseSeverity string  `json:"baseSeverity"`
}

// cvssScores reads the CVSS enrichment of vr: the highest-scoring CVSS
// object per vulnerability id. Enrichments are foreign data: anything of
// another shape is skipped, never an error.
func cvssScores(vr *vuln.VulnerabilityReport) map[string]CVSS {
	out := map[string]CVSS{}
	// Keys in order: of two keys scoring a vulnerability alike, the first
	// one's vector is shown, not whichever map iteration met first.
	var keys []string
	for key := range vr.Enrichments {
		if strings.HasPrefix(key, CVSSKeyPrefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		for _, elem := range vr.Enrichments[key] {
			switch m := elem.(type) {
			case map[string][]json.RawMessage: // made in this process
				for id, objs := range m {
					for _, b := range objs {
						if s, ok := decodeCVSSObject(b); ok {
							keepCVSS(out, id, s)
						}
					}
				}
			case json.RawMessage:
				decodeCVSS(m, out)
			default:
				if b, err := json.Marshal(elem); err == nil {
					decodeCVSS(b, out)
				}
			}
		}
	}
	return out
}

// Finding is one (package, vulnerability) pair as the formats render it,
// with what the report says about where the package came from.
type Finding struct {
	Package       *vuln.Package
	Vulnerability *vuln.Vulnerability
	// FixedIn is the fixed version, "unfixed" or "will not fix".
	FixedIn string
	// Layer is the digest of the layer that introduced the package, when
	// the report says.
	Layer string
	// Location is where the package was found: the package database or
	// the language package's file.
	Location string
	// CVSS is the vulnerability's CVSS v3 score from the report's
	// enrichments, when present.
	CVSS *CVSS
	// Suppressed is the suppression that took the finding out of the
	// report, or nil for an active finding.
	Suppressed *Suppressed
}

// Findings lists d's active findings in Rows' order (most severe first),
// then its suppressed ones in the order given.
func Findings(d *Document) (active, suppressed []Finding) {
	vr := d.Report
	if vr == nil {
		vr = &vuln.VulnerabilityReport{}
	}
	en := readEnrichments(vr)
	mk := func(p *vuln.Package, v *vuln.Vulnerability, fixed string) Finding {
		f := Finding{Package: p, Vulnerability: v, FixedIn: fixed}
		f.Layer, f.Location = where(vr, p)
		if v != nil {
			if s, ok := en.cvss[v.ID]; ok {
				f.CVSS = &s
			}
		}
		return f
	}
	for _, r := range rows(vr, en) {
		active = append(active, mk(r.Package, r.Vuln, r.FixedIn))
	}
	for i := range d.Suppressed {
		s := &d.Suppressed[i]
		if s.Package == nil || s.Vulnerability == nil {
			continue
		}
		f := mk(s.Package, s.Vulnerability, fixedIn(s.Vulnerability))
		f.Suppressed = s
		suppressed = append(suppressed, f)
	}
	return active, suppressed
}

func fixedIn(v *vuln.Vulnerability) string {
	switch {
	case v.FixedInVersion != "":
		return v.FixedInVersion
	case v.State == string(vuln.StateWontFix):
		return "will not fix"
	}
	return "unfixed"
}

// where returns the layer that introduced p and the file it was read from.
func where(vr *vuln.VulnerabilityReport, p *vuln.Package) (layer, location string) {
	if p == nil {
		return "", ""
	}
	location = p.Path
	if location == "" {
		location = p.PackageDB
	}
	for _, e := range vr.Environments[p.ID] {
		if e == nil {
			continue
		}
		if layer == "" {
			layer = e.IntroducedIn
		}
		if location == "" {
			location = e.PackageDB
		}
	}
	return layer, location
}

// Purl returns p's package URL: the scanner's when it set one, else one
// built from the distribution it was found on (pkg:deb/debian/…,
// pkg:apk/alpine/…, pkg:rpm/rhel/…), else a generic one. SBOM consumers
// match on it, so every package gets one.
func Purl(vr *vuln.VulnerabilityReport, p *vuln.Package) string {
	if p.Purl != "" {
		return p.Purl
	}
	typ, ns := packageurl.TypeGeneric, ""
	var quals packageurl.Qualifiers
	var dist *vuln.Distribution
	if vr != nil {
		for _, e := range vr.Environments[p.ID] {
			if e != nil && vr.Distributions[e.DistributionID] != nil {
				dist = vr.Distributions[e.DistributionID]
				break
			}
		}
	}
	switch p.Ecosystem {
	case "dpkg":
		typ = packageurl.TypeDebian
	case "apk":
		typ = packageurl.TypeApk
	case "rpm":
		typ = packageurl.TypeRPM
	}
	if typ != packageurl.TypeGeneric && dist != nil {
		ns = dist.DID
		if dist.VersionID != "" {
			quals = append(quals, packageurl.Qualifier{Key: "distro", Value: dist.DID + "-" + dist.VersionID})
		}
	}
	if p.Arch != "" {
		quals = append(quals, packageurl.Qualifier{Key: "arch", Value: p.Arch})
	}
	sort.Slice(quals, func(i, j int) bool { return quals[i].Key < quals[j].Key })
	return packageurl.NewPackageURL(typ, ns, p.Name, p.Version, quals, "").ToString()
}

// sortedPackages returns vr's packages by name, version and id, so that
// SBOMs are stable from run to run.
func sortedPackages(pkgs map[string]*vuln.Package) []*vuln.Package {
	out := make([]*vuln.Package, 0, len(pkgs))
	for _, p := range pkgs {
		if p != nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.ID < b.ID
	})
	return out
}

// firstLink is the first URL of a vulnerability's space-separated Links.
func firstLink(v *vuln.Vulnerability) string {
	for _, l := range strings.Fields(v.Links) {
		if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
			return l
		}
	}
	return ""
}

// links lists a vulnerability's URLs.
func links(v *vuln.Vulnerability) []string {
	var out []string
	for _, l := range strings.Fields(v.Links) {
		if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
			out = append(out, l)
		}
	}
	return out
}

// subject names what was scanned: the image reference given, else the
// manifest digest.
func subject(d *Document) string {
	if d.Image != "" {
		return d.Image
	}
	if d.Report != nil && d.Report.ManifestHash != "" {
		return d.Report.ManifestHash
	}
	return "image"
}
