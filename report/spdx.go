package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/openclair/clair/vuln"
)

// SPDX writes d as an SPDX 2.3 JSON document. SPDX 2.3 has no place for
// vulnerabilities (that came with 3.0's security profile), so the document
// holds the image's packages, and its comment says how many findings and
// suppressions the scan had and which formats carry them.
func SPDX(w io.Writer, d *Document) error {
	var ir *vuln.IndexReport
	if d.Report != nil {
		ir = indexOf(d.Report)
	}
	doc := spdxDoc(ir, subject(d), d.Started)
	doc.DocumentComment = fmt.Sprintf("SPDX 2.3 has no vulnerability records: this document lists the image's packages only. "+
		"The scan found %d vulnerabilities (%d suppressed); the sarif, cyclonedx and cosign-vuln formats carry them.",
		countFindings(d.Report), len(d.Suppressed))
	for _, w := range d.Warnings {
		doc.DocumentComment += " Warning: " + w
	}
	return spdxWrite(w, doc)
}

// spdxDoc is the package inventory of ir as an SPDX 2.3 document: the image
// as the described package, containing one package per installed package.
func spdxDoc(ir *vuln.IndexReport, image string, when time.Time) *v2_3.Document {
	vr := vrOf(ir)
	if when.IsZero() {
		when = time.Now()
	}
	ns := "https://github.com/openclair/clair/spdx/" + strings.NewReplacer(":", "-", "/", "-").Replace(image) + "-" + uuid.NewString()
	doc := &v2_3.Document{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      image,
		DocumentNamespace: ns,
		CreationInfo: &v2_3.CreationInfo{
			Creators: []common.Creator{{Creator: "clair", CreatorType: "Tool"}},
			Created:  when.UTC().Format(time.RFC3339),
		},
	}
	root := &v2_3.Package{
		PackageName:             image,
		PackageSPDXIdentifier:   "image",
		PackageDownloadLocation: "NOASSERTION",
		PrimaryPackagePurpose:   "CONTAINER",
	}
	if alg, hex, ok := strings.Cut(vr.ManifestHash, ":"); ok && alg == "sha256" {
		root.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hex}}
	}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships, &v2_3.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", "image"), Relationship: common.TypeRelationshipDescribe,
	})
	seen := map[common.ElementID]bool{"image": true, "DOCUMENT": true}
	for _, p := range sortedPackages(vr.Packages) {
		id := common.ElementID("Package-" + spdxIDPart(p.Name) + "-" + spdxIDPart(p.ID))
		for n := 2; seen[id]; n++ {
			id = common.ElementID(fmt.Sprintf("Package-%s-%s-%d", spdxIDPart(p.Name), spdxIDPart(p.ID), n))
		}
		seen[id] = true
		sp := &v2_3.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   id,
			PackageVersion:          p.Version,
			PackageDownloadLocation: "NOASSERTION",
			PrimaryPackagePurpose:   "LIBRARY",
			PackageExternalReferences: []*v2_3.PackageExternalReference{{
				Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: Purl(vr, p),
			}},
		}
		if strings.HasPrefix(p.CPE, "cpe:2.3:") {
			sp.PackageExternalReferences = append(sp.PackageExternalReferences, &v2_3.PackageExternalReference{
				Category: common.CategorySecurity, RefType: common.TypeSecurityCPE23Type, Locator: p.CPE,
			})
		}
		if p.Source != nil && p.Source.Name != "" {
			sp.PackageSourceInfo = "built from source package " + strings.TrimSpace(p.Source.Name+" "+p.Source.Version)
		}
		layer, loc := where(vr, p)
		var cm []string
		if loc != "" {
			cm = append(cm, "found in "+loc)
		}
		if layer != "" {
			cm = append(cm, "introduced in layer "+layer)
		}
		sp.PackageComment = strings.Join(cm, "; ")
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, &v2_3.Relationship{
			RefA: common.MakeDocElementID("", "image"), RefB: common.MakeDocElementID("", string(id)), Relationship: common.TypeRelationshipContains,
		})
	}
	return doc
}

// spdxIDPart keeps what an SPDX identifier allows: letters, digits, '.'
// and '-'.
func spdxIDPart(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

func spdxWrite(w io.Writer, doc *v2_3.Document) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := spdxjson.Write(doc, bw); err != nil {
		return fmt.Errorf("report: spdx: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: spdx: %w", err)
	}
	return nil
}

// countFindings counts the (package, vulnerability) pairs Rows would list,
// without building them.
func countFindings(vr *vuln.VulnerabilityReport) int {
	if vr == nil {
		return 0
	}
	n := 0
	for pid, vids := range vr.PackageVulnerabilities {
		if vr.Packages[pid] == nil {
			continue
		}
		for _, vid := range vids {
			if vr.Vulnerabilities[vid] != nil {
				n++
			}
		}
	}
	return n
}
