package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/openclair/clair/vuln"
)

// SBOMFormats lists the formats WriteSBOM knows.
var SBOMFormats = []string{"cyclonedx", "spdx"}

// sbomPackages are ir's packages in a stable order.
func sbomPackages(ir *vuln.IndexReport) []*vuln.Package {
	ps := make([]*vuln.Package, 0, len(ir.Packages))
	for _, p := range ir.Packages {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		if ps[i].Version != ps[j].Version {
			return ps[i].Version < ps[j].Version
		}
		return ps[i].ID < ps[j].ID
	})
	return ps
}

// WriteSBOM renders the packages of ir alone, without vulnerabilities (no
// feeds needed): a CycloneDX 1.6 or SPDX 2.3 JSON document naming image.
func WriteSBOM(w io.Writer, format string, ir *vuln.IndexReport, image string) error {
	if image == "" {
		image = ir.ManifestHash
	}
	switch format {
	case "cyclonedx":
		comps := []cdx.Component{}
		for _, p := range sbomPackages(ir) {
			comps = append(comps, cdx.Component{
				BOMRef:     "pkg-" + p.ID,
				Type:       cdx.ComponentTypeLibrary,
				Name:       p.Name,
				Version:    p.Version,
				PackageURL: p.Purl,
			})
		}
		bom := cdx.NewBOM()
		bom.Metadata = &cdx.Metadata{
			Timestamp: time.Now().UTC().Format(time.RFC3339),
			Component: &cdx.Component{BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: image, Version: ir.ManifestHash},
		}
		bom.Components = &comps
		enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
		enc.SetPretty(true)
		if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
			return fmt.Errorf("report: cyclonedx: %w", err)
		}
		return nil
	case "spdx":
		doc := &spdx.Document{
			SPDXVersion:       spdx.Version,
			DataLicense:       spdx.DataLicense,
			SPDXIdentifier:    "DOCUMENT",
			DocumentName:      image,
			DocumentNamespace: "https://openclair.github.io/spdx/" + strings.ReplaceAll(ir.ManifestHash, ":", "-"),
			CreationInfo: &spdx.CreationInfo{
				Creators: []common.Creator{{CreatorType: "Tool", Creator: "clairctl"}},
				Created:  time.Now().UTC().Format(time.RFC3339),
			},
		}
		for i, p := range sbomPackages(ir) {
			sp := &spdx.Package{
				PackageName:             p.Name,
				PackageSPDXIdentifier:   common.ElementID(fmt.Sprintf("Package-%d", i+1)),
				PackageVersion:          p.Version,
				PackageDownloadLocation: "NOASSERTION",
				FilesAnalyzed:           false,
			}
			if p.Purl != "" {
				sp.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p.Purl}}
			}
			doc.Packages = append(doc.Packages, sp)
		}
		if err := spdxjson.Write(doc, w, spdxjson.Indent("  ")); err != nil {
			return fmt.Errorf("report: spdx: %w", err)
		}
		return nil
	}
	return fmt.Errorf("report: unknown SBOM format %q (want one of %s)", format, strings.Join(SBOMFormats, ", "))
}
