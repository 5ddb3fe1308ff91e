package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/openclair/clair/vuln"
)

// SBOMFormats lists the formats WriteSBOM knows.
var SBOMFormats = []string{"cyclonedx", "spdx"}

// WriteSBOM renders the packages of ir alone, without vulnerabilities
// (`clairctl sbom IMAGE`: no feeds needed): a CycloneDX 1.6 or SPDX 2.3
// JSON document naming image.
func WriteSBOM(w io.Writer, format string, ir *vuln.IndexReport, image string) error {
	if image == "" && ir != nil {
		image = ir.ManifestHash
	}
	if image == "" {
		image = "image"
	}
	switch format {
	case "cyclonedx":
		bom, _ := cdxBOM(ir, image, time.Time{})
		return cdxEncode(w, bom)
	case "spdx":
		return spdxWrite(w, spdxDoc(ir, image, time.Time{}))
	}
	return fmt.Errorf("report: unknown SBOM format %q (want one of %s)", format, strings.Join(SBOMFormats, ", "))
}
