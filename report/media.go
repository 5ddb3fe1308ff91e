package report

import (
	"mime"
	"strconv"
	"strings"
)

// mediaTypes are each format's media type, for HTTP answers and Accept.
var mediaTypes = map[string]string{
	"json":        "application/json",
	"table":       "text/plain; charset=utf-8",
	"html":        "text/html; charset=utf-8",
	"sarif":       "application/sarif+json",
	"cyclonedx":   "application/vnd.cyclonedx+json; version=1.6",
	"spdx":        "application/spdx+json",
	"cosign-vuln": "application/vnd.cosign.vuln+json",
}

// ContentType is the media type of a format's output.
func ContentType(format string) string {
	if t, ok := mediaTypes[format]; ok {
		return t
	}
	return "application/octet-stream"
}

// FormatForMediaType picks the format an Accept header asks for: the
// acceptable media type of highest quality that names one (wildcards and
// unknown types are skipped). ok is false when none does, and the caller
// keeps its default.
func FormatForMediaType(accept string) (format string, ok bool) {
	best := -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				q = f
			}
		}
		if q <= 0 || q <= best {
			continue
		}
		for f, t := range mediaTypes {
			base, _, _ := mime.ParseMediaType(t)
			if base == mt && f != "table" {
				format, best, ok = f, q, true
			}
		}
		if mt == "text/plain" {
			format, best, ok = "table", q, true
		}
	}
	return format, ok
}
