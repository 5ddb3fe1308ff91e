package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// TestJSONAsEncodingJSON: the json format writes what encoding/json's
// Encoder writes with SetIndent("", "  ") and SetEscapeHTML(false), byte
// for byte, for the 700-package image's enriched report alone and as a
// document with suppressed findings and warnings.
func TestJSONAsEncodingJSON(t *testing.T) {
	vr := enrichedReport(t)
	want := func(v any) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var got bytes.Buffer
	if err := report.JSON(&got, vr); err != nil {
		t.Fatal(err)
	}
	if w := want(vr); !bytes.Equal(got.Bytes(), w) {
		t.Fatalf("report: %d bytes, encoding/json %d", got.Len(), len(w))
	}

	var p *vuln.Package
	var v *vuln.Vulnerability
	for pid, vids := range vr.PackageVulnerabilities {
		p, v = vr.Packages[pid], vr.Vulnerabilities[vids[0]]
		break
	}
	d := &report.Document{Report: vr, Warnings: []string{"a <warning> & more"},
		Suppressed: []report.Suppressed{{Package: p, Vulnerability: v, Reason: "not <used>", Source: ".clairignore"}}}
	for _, doc := range []*report.Document{d, {Report: vr, Warnings: d.Warnings}, {Report: vr, Suppressed: d.Suppressed}} {
		got.Reset()
		if err := report.DocumentJSON(&got, doc); err != nil {
			t.Fatal(err)
		}
		w := want(struct {
			*vuln.VulnerabilityReport
			Suppressed []report.Suppressed `json:"suppressed,omitempty"`
			Warnings   []string            `json:"warnings,omitempty"`
		}{doc.Report, doc.Suppressed, doc.Warnings})
		if !bytes.Equal(got.Bytes(), w) {
			t.Fatalf("document (%d suppressed, %d warnings): %d bytes, encoding/json %d", len(doc.Suppressed), len(doc.Warnings), got.Len(), len(w))
		}
	}
}
