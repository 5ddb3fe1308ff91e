package report_test

import (
	"slices"
	"testing"

	"github.com/openclair/clair/report"
)

func TestFormatForMediaType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                       "",
		"*/*":                                    "",
		"application/json":                       "json",
		"application/sarif+json":                 "sarif",
		"application/vnd.cyclonedx+json":         "cyclonedx",
		"application/spdx+json;q=0.5, text/html": "html",
		"text/html;q=0.1, application/spdx+json;q=0.5":                    "spdx",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": "html",
		"text/plain":      "table",
		"application/xml": "",
		"text/html;q=0":   "",
		"garbage;;;=":     "",
	} {
		got, ok := report.FormatForMediaType(accept)
		if got != want || ok != (want != "") {
			t.Errorf("Accept %q: %q %v, want %q", accept, got, ok, want)
		}
	}
	for _, f := range report.Formats {
		if f == "template" {
			continue
		}
		if got, ok := report.FormatForMediaType(report.ContentType(f)); !ok || got != f {
			t.Errorf("%s: its own media type %q reads as %q", f, report.ContentType(f), got)
		}
	}
}

// FuzzFormatForMediaType: an Accept header is the client's bytes.
func FuzzFormatForMediaType(f *testing.F) {
	f.Add("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	f.Fuzz(func(t *testing.T, accept string) {
		got, ok := report.FormatForMediaType(accept)
		if ok != (got != "") || (ok && !slices.Contains(report.Formats, got)) {
			t.Fatalf("%q: %q %v", accept, got, ok)
		}
	})
}
