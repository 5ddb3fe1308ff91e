package java

import (
	"bytes"
	"strings"
)

// parseManifest reads an artifact from a manifest's main section, as Trivy
// does: Implementation-Title or the Bundle-SymbolicName's last element as
// artifact, Implementation-Version or Bundle-Version as version, and
// Implementation-Vendor-Id, or the Bundle-SymbolicName without its last
// element, as group.
func parseManifest(b []byte) props {
	h := manifestHeaders(b)
	var p props
	bsn, _, _ := strings.Cut(h["Bundle-SymbolicName"], ";") // drop ";singleton:=true"
	bsn = strings.TrimSpace(bsn)
	bsnGroup, bsnArtifact := "", bsn
	if i := strings.LastIndexByte(bsn, '.'); i > 0 {
		bsnGroup, bsnArtifact = bsn[:i], bsn[i+1:]
	}
	switch title := h["Implementation-Title"]; {
	case title != "" && !strings.ContainsAny(title, " \t"):
		p.artifact = title
	case bsnArtifact != "":
		p.artifact = bsnArtifact
	}
	p.version = h["Implementation-Version"]
	if p.version == "" {
		p.version = h["Bundle-Version"]
	}
	p.group = h["Implementation-Vendor-Id"]
	if p.group == "" {
		p.group = bsnGroup
	}
	p.group, p.artifact, p.version = cleanValue(p.group), cleanValue(p.artifact), cleanValue(p.version)
	return p
}

// manifestHeaders returns the headers parseManifest uses from a
// manifest's main section (up to the first blank line). A line that begins
// with a space continues the one before, even inside a header's name, as
// java.util.jar.Manifest reads it. Lines end in CR LF, LF or CR. The first
// of repeated headers wins.
func manifestHeaders(b []byte) map[string]string {
	h := map[string]string{}
	var logical []byte
	flush := func() {
		k, v, ok := bytes.Cut(logical, []byte(":"))
		logical = logical[:0]
		if !ok {
			return
		}
		if _, want := manifestKeys[string(k)]; !want {
			return
		}
		if _, dup := h[string(k)]; !dup {
			h[string(k)] = string(bytes.TrimLeft(v, " "))
		}
	}
	for len(b) > 0 {
		var line []byte
		i := bytes.IndexAny(b, "\r\n")
		switch {
		case i < 0:
			line, b = b, nil
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
			line, b = b[:i], b[i+2:]
		default:
			line, b = b[:i], b[i+1:]
		}
		if len(line) == 0 {
			break // the main section ends at the first blank line
		}
		if line[0] == ' ' {
			// Kept headers are short; the long ones (Export-Package) are
			// not worth the copy.
			if len(logical) <= 2*maxValue {
				logical = append(logical, line[1:]...)
			}
			continue
		}
		flush()
		logical = append(logical, line[:min(len(line), 2*maxValue)]...)
	}
	flush()
	return h
}

var manifestKeys = map[string]struct{}{
	"Implementation-Title": {}, "Implementation-Version": {}, "Implementation-Vendor-Id": {},
	"Bundle-SymbolicName": {}, "Bundle-Version": {},
}
