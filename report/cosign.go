package report

import (
	"io"
	"runtime/debug"
	"time"

	"github.com/openclair/clair/vuln"
)

// The predicate `cosign attest --type vuln --predicate FILE` takes
// (sigstore/cosign specs/COSIGN_VULN_ATTESTATION_SPEC.md and its
// CosignVulnPredicate type): cosign wraps it in the in-toto statement
// itself, so this is the predicate alone.
type cosignPredicate struct {
	Invocation cosignInvocation `json:"invocation"`
	Scanner    cosignScanner    `json:"scanner"`
	Metadata   cosignMetadata   `json:"metadata"`
}

type cosignInvocation struct {
	Parameters []string `json:"parameters"`
	URI        string   `json:"uri"`
	EventID    string   `json:"event_id"`
	BuilderID  string   `json:"builder.id"`
}

type cosignScanner struct {
	URI     string       `json:"uri"`
	Version string       `json:"version"`
	DB      cosignDB     `json:"db"`
	Result  cosignResult `json:"result"`
}

type cosignDB struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
}

type cosignMetadata struct {
	ScanStartedOn  string `json:"scanStartedOn"`
	ScanFinishedOn string `json:"scanFinishedOn"`
}

// cosignResult is the scan result as a whole: Clair's vulnerability report
// JSON, unchanged, and beside it what the gates took out and why.
type cosignResult struct {
	Image               string                    `json:"image,omitempty"`
	VulnerabilityReport *vuln.VulnerabilityReport `json:"vulnerability_report"`
	Suppressed          []Suppressed              `json:"suppressed"`
	Warnings            []string                  `json:"warnings,omitempty"`
}

// CosignVuln writes d as a cosign vulnerability-scan predicate. The scan's
// start is d.Started (the time of rendering when unset); it finishes when
// the predicate is written.
func CosignVuln(w io.Writer, d *Document) error {
	finished := time.Now().UTC()
	started := d.Started.UTC()
	if d.Started.IsZero() {
		started = finished
	}
	sup := d.Suppressed
	if sup == nil {
		sup = []Suppressed{}
	}
	p := cosignPredicate{
		Invocation: cosignInvocation{Parameters: []string{}},
		Scanner: cosignScanner{
			URI:     "pkg:github/openclair/clair",
			Version: toolVersion(),
			Result:  cosignResult{Image: d.Image, VulnerabilityReport: d.Report, Suppressed: sup, Warnings: d.Warnings},
		},
		Metadata: cosignMetadata{
			ScanStartedOn:  started.Format(time.RFC3339Nano),
			ScanFinishedOn: finished.Format(time.RFC3339Nano),
		},
	}
	if v := toolVersion(); v != "" {
		p.Scanner.URI += "@" + v
	}
	return writeJSON(w, "cosign-vuln", p)
}

// toolVersion is the main module's version as the build recorded it.
func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return ""
}
