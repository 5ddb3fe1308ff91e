package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"

	"github.com/openclair/clair/vuln"
)

// CycloneDX writes d as a CycloneDX 1.6 JSON BOM: the image as the
// metadata component, every package as a component, and one vulnerability
// per advisory of the report with the components it affects. Suppressed
// findings are vulnerabilities apart, each with an analysis saying why.
func CycloneDX(w io.Writer, d *Document) error {
	var ir *vuln.IndexReport
	if d.Report != nil {
		ir = indexOf(d.Report)
	}
	bom, refs := cdxBOM(ir, subject(d), d.Started)
	active, suppressed := Findings(d)

	vulns := []cdx.Vulnerability{}
	byID := map[string]int{}
	for i := range active {
		f := &active[i]
		v := f.Vulnerability
		j, ok := byID[v.ID]
		if !ok {
			j = len(vulns)
			byID[v.ID] = j
			vulns = append(vulns, cdxVuln(f))
		}
		*vulns[j].Affects = append(*vulns[j].Affects, cdx.Affects{Ref: refs[f.Package.ID]})
	}
	for i := range suppressed {
		f := &suppressed[i]
		cv := cdxVuln(f)
		cv.BOMRef = fmt.Sprintf("suppressed-%d", i+1)
		ref, ok := refs[f.Package.ID]
		if !ok {
			// A suppressed package the report no longer lists (every
			// finding of it was suppressed): name it by its purl.
			ref = Purl(d.Report, f.Package)
			*bom.Components = append(*bom.Components, cdxComponent(d.Report, f.Package, ref))
			refs[f.Package.ID] = ref
		}
		*cv.Affects = append(*cv.Affects, cdx.Affects{Ref: ref})
		cv.Analysis = cdxAnalysis(f.Suppressed)
		vulns = append(vulns, cv)
	}
	bom.Vulnerabilities = &vulns
	if len(d.Warnings) > 0 {
		props := *bom.Metadata.Properties
		for _, w := range d.Warnings {
			props = append(props, cdx.Property{Name: "clair:warning", Value: w})
		}
		bom.Metadata.Properties = &props
	}
	return cdxEncode(w, bom)
}

// indexOf is the IndexReport part of a vulnerability report.
func indexOf(vr *vuln.VulnerabilityReport) *vuln.IndexReport {
	return &vuln.IndexReport{
		ManifestHash:  vr.ManifestHash,
		Packages:      vr.Packages,
		Distributions: vr.Distributions,
		Repositories:  vr.Repositories,
		Environments:  vr.Environments,
	}
}

// vrOf is the other way round, for the helpers that read a report.
func vrOf(ir *vuln.IndexReport) *vuln.VulnerabilityReport {
	if ir == nil {
		return &vuln.VulnerabilityReport{}
	}
	return &vuln.VulnerabilityReport{
		ManifestHash:  ir.ManifestHash,
		Packages:      ir.Packages,
		Distributions: ir.Distributions,
		Repositories:  ir.Repositories,
		Environments:  ir.Environments,
	}
}

// cdxBOM is the package part of a BOM, and each package id's bom-ref.
func cdxBOM(ir *vuln.IndexReport, image string, when time.Time) (*cdx.BOM, map[string]string) {
	vr := vrOf(ir)
	if when.IsZero() {
		when = time.Now()
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + uuid.NewString()
	meta := &cdx.Metadata{
		Timestamp: when.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "clair", Group: "openclair",
			ExternalReferences: &[]cdx.ExternalReference{{Type: cdx.ERTypeVCS, URL: "https://github.com/openclair/clair"}},
		}}},
		Component: &cdx.Component{
			BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: image,
		},
		Properties: &[]cdx.Property{},
	}
	if vr.ManifestHash != "" {
		meta.Component.Hashes = cdxHashes(vr.ManifestHash)
		*meta.Properties = append(*meta.Properties, cdx.Property{Name: "clair:manifest_hash", Value: vr.ManifestHash})
	}
	for _, dist := range sortedDists(vr.Distributions) {
		*meta.Properties = append(*meta.Properties, cdx.Property{Name: "clair:distribution", Value: distName(dist)})
	}
	bom.Metadata = meta

	comps := []cdx.Component{}
	refs := map[string]string{}
	seen := map[string]bool{}
	var deps []string
	for _, p := range sortedPackages(vr.Packages) {
		ref := Purl(vr, p)
		if seen[ref] {
			// The same package in two places (two layers' copies of a
			// jar): bom-refs must be unique.
			ref += "#" + p.ID
		}
		seen[ref] = true
		refs[p.ID] = ref
		comps = append(comps, cdxComponent(vr, p, ref))
		deps = append(deps, ref)
	}
	bom.Components = &comps
	if len(deps) > 0 {
		bom.Dependencies = &[]cdx.Dependency{{Ref: "image", Dependencies: &deps}}
	}
	return bom, refs
}

func cdxHashes(digest string) *[]cdx.Hash {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok || alg != "sha256" || len(hex) != 64 {
		return nil
	}
	return &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex}}
}

func cdxComponent(vr *vuln.VulnerabilityReport, p *vuln.Package, ref string) cdx.Component {
	c := cdx.Component{
		BOMRef:     ref,
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: Purl(vr, p),
		CPE:        p.CPE,
	}
	if c.CPE != "" && !strings.HasPrefix(c.CPE, "cpe:2.3:") {
		c.CPE = "" // the schema takes only the 2.3 form
	}
	var props []cdx.Property
	layer, loc := where(vr, p)
	if layer != "" {
		props = append(props, cdx.Property{Name: "clair:layer", Value: layer})
	}
	if loc != "" {
		props = append(props, cdx.Property{Name: "clair:location", Value: loc})
	}
	if p.Source != nil && p.Source.Name != "" && p.Source.Name != p.Name {
		props = append(props, cdx.Property{Name: "clair:source_package", Value: strings.TrimSpace(p.Source.Name + " " + p.Source.Version)})
	}
	if p.Ecosystem != "" {
		props = append(props, cdx.Property{Name: "clair:ecosystem", Value: p.Ecosystem})
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}

func cdxVuln(f *Finding) cdx.Vulnerability {
	v := f.Vulnerability
	cv := cdx.Vulnerability{
		BOMRef:      v.ID,
		ID:          v.Name,
		Description: v.Description,
		Affects:     &[]cdx.Affects{},
	}
	if cv.BOMRef == "" {
		cv.BOMRef = v.Name
	}
	if v.Updater != "" {
		cv.Source = &cdx.Source{Name: v.Updater}
	}
	rating := cdx.VulnerabilityRating{Severity: cdxSeverity(v.NormalizedSeverity), Method: cdx.ScoringMethodOther}
	if v.Updater != "" {
		rating.Source = &cdx.Source{Name: v.Updater}
	}
	ratings := []cdx.VulnerabilityRating{rating}
	if f.CVSS != nil {
		score := f.CVSS.BaseScore
		m := cdx.ScoringMethodCVSSv31
		if f.CVSS.Version == "3.0" || strings.HasPrefix(f.CVSS.VectorString, "CVSS:3.0/") {
			m = cdx.ScoringMethodCVSSv3
		}
		ratings = append(ratings, cdx.VulnerabilityRating{
			Source: &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + v.Name},
			Score:  &score, Severity: cdx.Severity(strings.ToLower(f.CVSS.BaseSeverity)), Method: m, Vector: f.CVSS.VectorString,
		})
		if !validCDXSeverity(ratings[1].Severity) {
			ratings[1].Severity = ""
		}
	}
	cv.Ratings = &ratings
	if ls := links(v); len(ls) > 0 {
		adv := make([]cdx.Advisory, 0, len(ls))
		for _, l := range ls {
			adv = append(adv, cdx.Advisory{URL: l})
		}
		cv.Advisories = &adv
	}
	if !v.Issued.IsZero() {
		cv.Published = v.Issued.UTC().Format(time.RFC3339)
	}
	if v.FixedInVersion != "" {
		cv.Recommendation = "Upgrade " + f.Package.Name + " to " + v.FixedInVersion + " or later."
	}
	props := []cdx.Property{{Name: "clair:fixed_in", Value: f.FixedIn}}
	if v.Package != nil && v.Package.Name != "" {
		props = append(props, cdx.Property{Name: "clair:advisory_package", Value: v.Package.Name})
	}
	cv.Properties = &props
	return cv
}

func validCDXSeverity(s cdx.Severity) bool {
	switch s {
	case cdx.SeverityCritical, cdx.SeverityHigh, cdx.SeverityMedium, cdx.SeverityLow, cdx.SeverityInfo, cdx.SeverityNone, cdx.SeverityUnknown:
		return true
	}
	return false
}

func cdxSeverity(s vuln.Severity) cdx.Severity {
	switch s {
	case vuln.Critical:
		return cdx.SeverityCritical
	case vuln.High:
		return cdx.SeverityHigh
	case vuln.Medium:
		return cdx.SeverityMedium
	case vuln.Low:
		return cdx.SeverityLow
	case vuln.Negligible:
		return cdx.SeverityInfo
	}
	return cdx.SeverityUnknown
}

// vexJustifications maps OpenVEX's status justifications to CycloneDX's.
var vexJustifications = map[string]cdx.ImpactAnalysisJustification{
	"component_not_present":                             cdx.IAJCodeNotPresent,
	"vulnerable_code_not_present":                       cdx.IAJCodeNotPresent,
	"vulnerable_code_not_in_execute_path":               cdx.IAJCodeNotReachable,
	"vulnerable_code_cannot_be_controlled_by_adversary": cdx.IAJProtectedAtRuntime,
	"inline_mitigations_already_exist":                  cdx.IAJProtectedByMitigatingControl,
}

// cdxAnalysis states a suppression. A VEX statement's reason reads
// "STATUS[: JUSTIFICATION][: DETAIL]" (package suppress): "fixed" is
// resolved, "not_affected" carries the justification mapped to
// CycloneDX's (OpenVEX's names, or CycloneDX's own); an ignore-file entry
// is not_affected by the user's word, its reason in the detail.
func cdxAnalysis(s *Suppressed) *cdx.VulnerabilityAnalysis {
	a := &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Detail: "suppressed by " + s.Source}
	if s.Reason != "" {
		a.Detail += ": " + s.Reason
	}
	if !strings.HasPrefix(s.Source, "vex ") {
		return a
	}
	parts := strings.SplitN(s.Reason, ": ", 3)
	switch strings.TrimSpace(parts[0]) {
	case "fixed", "resolved":
		a.State = cdx.IASResolved
	case "not_affected":
		if len(parts) > 1 {
			j := strings.TrimSpace(parts[1])
			if m, ok := vexJustifications[j]; ok {
				a.Justification = m
			} else if cdxJustification(j) {
				a.Justification = cdx.ImpactAnalysisJustification(j)
			}
		}
	}
	return a
}

// cdxJustification reports whether j is one of CycloneDX's justifications.
func cdxJustification(j string) bool {
	switch cdx.ImpactAnalysisJustification(j) {
	case cdx.IAJCodeNotPresent, cdx.IAJCodeNotReachable, cdx.IAJRequiresConfiguration, cdx.IAJRequiresDependency,
		cdx.IAJRequiresEnvironment, cdx.IAJProtectedByCompiler, cdx.IAJProtectedAtRuntime, cdx.IAJProtectedAtPerimeter,
		cdx.IAJProtectedByMitigatingControl:
		return true
	}
	return false
}

func cdxEncode(w io.Writer, bom *cdx.BOM) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := cdx.NewBOMEncoder(bw, cdx.BOMFileFormatJSON)
	enc.SetPretty(false).SetEscapeHTML(false)
	// The BOM uses 1.6's fields only (the schema test holds it to that),
	// so it is encoded as 1.6 as it stands: EncodeVersion would first
	// copy the whole BOM to convert it.
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.XMLNS = "http://cyclonedx.org/schema/bom/1.6"
	if err := enc.Encode(bom); err != nil {
		return fmt.Errorf("report: cyclonedx: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: cyclonedx: %w", err)
	}
	return nil
}

func sortedDists(m map[string]*vuln.Distribution) []*vuln.Distribution {
	out := make([]*vuln.Distribution, 0, len(m))
	for _, d := range m {
		if d != nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func distName(d *vuln.Distribution) string {
	if d.PrettyName != "" {
		return d.PrettyName
	}
	return strings.TrimSpace(d.DID + " " + d.VersionID)
}
