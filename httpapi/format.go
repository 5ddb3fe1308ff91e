package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// serverFormats are the report formats the vulnerability_report endpoint
// renders besides Clair's JSON: all of report.Formats but "template",
// which would read a file the client names on the server.
var serverFormats = []string{"json", "html", "sarif", "cyclonedx", "spdx", "cosign-vuln", "table"}

// reportFormat is the format a request asks for: ?format= when given (an
// unknown name is the client's error), else the Accept header's best
// known media type, else Clair's JSON.
func reportFormat(r *http.Request) (string, error) {
	if f := r.URL.Query().Get("format"); f != "" {
		if !slices.Contains(serverFormats, f) {
			return "", fmt.Errorf("format: unknown format %q (want one of %s)", f, strings.Join(serverFormats, ", "))
		}
		return f, nil
	}
	if f, ok := report.FormatForMediaType(r.Header.Get("Accept")); ok && slices.Contains(serverFormats, f) {
		return f, nil
	}
	return "json", nil
}

// serveReportFormat answers the vulnerability_report request in the
// format it asks for, and reports whether it did: false leaves Clair's
// JSON to the caller. The report is the one ReportJSON computed (and
// cached), read back, so every format shows the same findings.
func (s *Server) serveReportFormat(w http.ResponseWriter, r *http.Request, digest string) bool {
	format, err := reportFormat(r)
	if err != nil {
		apiFail(w, http.StatusBadRequest, err.Error())
		return true
	}
	if format == "json" {
		return false
	}
	e, err := s.Matcher.ReportJSON(r.Context(), digest)
	if err != nil {
		s.fail(w, r, err)
		return true
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal(e.JSON, &vr); err != nil {
		s.fail(w, r, fmt.Errorf("report %s: %w", digest, err))
		return true
	}
	var buf bytes.Buffer
	if err := report.WriteDocument(&buf, format, &report.Document{Report: &vr, Image: digest}); err != nil {
		s.fail(w, r, err)
		return true
	}
	b := buf.Bytes()
	w.Header().Set("Vary", "Accept, Accept-Encoding")
	if acceptsGzip(r) {
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
		_, _ = zw.Write(b)
		_ = zw.Close()
		b = z.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Type", report.ContentType(format))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if format == "html" {
		w.Header().Set("Content-Security-Policy", htmlCSP)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return true
}

// htmlCSP forbids the pages the server renders to load anything.
const htmlCSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
