package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// update rewrites the golden files from the current output:
// go test ./cli -run TestGolden -update
var update = flag.Bool("update", false, "rewrite testdata/golden/ from the current output")

// goldenFormats are the formats compared with golden files. html and
// cosign-vuln (no ext) are only checked to be the same from run to run: the
// one shows the findings the table and sarif goldens hold, the other wraps
// the json report unchanged. template renders the user's own file.
var goldenFormats = []struct{ name, ext string }{
	{"table", "txt"},
	{"json", "json"},
	{"sarif", "sarif.json"},
	{"cyclonedx", "cdx.json"},
	{"spdx", "spdx.json"},
	{"html", ""},
	{"cosign-vuln", ""},
}

// TestGolden scans the repository's real images with the real feed excerpts
// (and the enrichment excerpts) and compares every report format with its
// golden file in testdata/golden/. It scans each image twice per format
// from the same database: both outputs must be byte-identical before any
// normalisation, so that map order or clocks cannot hide behind the golden
// comparison.
func TestGolden(t *testing.T) {
	en := mustAbs(t, filepath.Join(root, "testdata/feeds/enrich"))
	enrich := []string{
		"--feed", "nvd=file://" + filepath.Join(en, "nvd"),
		"--feed", "cvelist=file://" + filepath.Join(en, "cvelist/cvelistV5-main.tar.gz"),
		"--feed", "epss=file://" + filepath.Join(en, "epss/epss_scores-current.csv.gz"),
		"--feed", "kev=file://" + filepath.Join(en, "kev/known_exploited_vulnerabilities.json"),
	}
	images := []struct {
		name, image, feed, url string
	}{
		{"debian-11-nginx", "testdata/images/debian-11-nginx.tar", "debian", "testdata/feeds/debian-bullseye-nginx.json"},
		{"alpine-3.18.9", "testdata/images/alpine-3.18.9.tar", "alpine", "testdata/feeds/alpine"},
	}
	for _, im := range images {
		t.Run(im.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "clair.db")
			feeds := append([]string{"--feed", im.feed + "=file://" + mustAbs(t, filepath.Join(root, im.url))}, enrich...)
			upd := append([]string{"--db", db, "update", "--only", im.feed + ",nvd,cvelist,epss,kev"}, feeds...)
			if _, errOut, code := clairctl(t, upd...); code != 0 {
				t.Fatalf("update: exit %d: %s", code, errOut)
			}
			// The image path is relative to the package so that the
			// report names it the same in every checkout.
			img := "docker-archive:" + filepath.ToSlash(filepath.Join(root, im.image))
			for _, f := range goldenFormats {
				t.Run(f.name, func(t *testing.T) {
					scan := func() string {
						out, errOut, code := clairctl(t, "--db", db, "scan", "--skip-update", "--format", f.name, img)
						if code != 0 {
							t.Fatalf("scan: exit %d: %s", code, errOut)
						}
						return out
					}
					first, second := normalise(t, f.name, scan()), normalise(t, f.name, scan())
					if first != second {
						t.Errorf("two scans of the same image differ:\n%s", unifiedDiff("first", "second", first, second))
					}
					if f.ext != "" {
						checkGolden(t, filepath.Join(root, "testdata/golden", im.name+"."+f.ext), first)
					}
				})
			}
		})
	}
}

// Fields that are meant to differ between runs, per format. Each is
// replaced by a fixed placeholder; everything else must be reproducible.
var (
	// RFC 3339 times: CycloneDX metadata.timestamp, SPDX creationInfo.created,
	// SARIF invocation times. They record when the report was made.
	// cosign-vuln's scanStartedOn/scanFinishedOn too.
	timestampRE = regexp.MustCompile(`"(timestamp|created|startTimeUtc|endTimeUtc|scanStartedOn|scanFinishedOn)": "[^"]*"`)
	// CycloneDX serialNumber is a fresh urn:uuid per BOM, as the spec asks.
	serialRE = regexp.MustCompile(`"serialNumber": "urn:uuid:[^"]*"`)
	// SPDX documentNamespace must be unique per document, so it carries a UUID.
	namespaceRE = regexp.MustCompile(`("documentNamespace": "[^"]*?)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// normalise replaces the fields meant to vary and, for the JSON formats
// (written compact, one line), indents the document so that a golden diff
// shows the changed field rather than one enormous line. Indenting keeps
// the key order as written: an unstable order still fails.
func normalise(t *testing.T, format, out string) string {
	t.Helper()
	if format == "table" || format == "html" {
		return out
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(out), "", "  "); err != nil {
		t.Fatalf("%s output is not JSON: %v", format, err)
	}
	s := buf.String()
	s = timestampRE.ReplaceAllString(s, `"$1": "TIMESTAMP"`)
	s = serialRE.ReplaceAllString(s, `"serialNumber": "urn:uuid:SERIAL"`)
	s = namespaceRE.ReplaceAllString(s, `${1}UUID`)
	return s
}

// checkGolden compares got with the golden file at path, or rewrites the
// file with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cli -run TestGolden -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test ./cli -run TestGolden -update rewrites it after review):\n%s",
			path, unifiedDiff(path, "got", string(want), got))
	}
}

// unifiedDiff renders the first differing region of a and b as a unified
// diff hunk with three lines of context, and says how many lines differ in
// all. A minimal diff is not needed: the hunk only has to point at the
// first change and show it readably.
func unifiedDiff(nameA, nameB, a, b string) string {
	al, bl := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	// Common prefix and suffix bound the changed region.
	p := 0
	for p < len(al) && p < len(bl) && al[p] == bl[p] {
		p++
	}
	s := 0
	for s < len(al)-p && s < len(bl)-p && al[len(al)-1-s] == bl[len(bl)-1-s] {
		s++
	}
	const ctx, maxLines, maxWidth = 3, 40, 200
	start := max(p-ctx, 0)
	aEnd, bEnd := min(len(al)-s+ctx, len(al)), min(len(bl)-s+ctx, len(bl))
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--- %s\n+++ %s\n@@ -%d,%d +%d,%d @@\n", nameA, nameB, start+1, aEnd-start, start+1, bEnd-start)
	n := 0
	emit := func(prefix, line string) {
		n++
		if n > maxLines {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		if len(line) > maxWidth {
			line = line[:maxWidth] + "…"
		}
		buf.WriteString(prefix + line + "\n")
	}
	for _, l := range al[start:p] {
		emit(" ", l)
	}
	for _, l := range al[p : len(al)-s] {
		emit("-", l)
	}
	for _, l := range bl[p : len(bl)-s] {
		emit("+", l)
	}
	for _, l := range al[len(al)-s : aEnd] {
		emit(" ", l)
	}
	if n > maxLines {
		fmt.Fprintf(&buf, "... %d more lines of the hunk not shown\n", n-maxLines)
	}
	return buf.String()
}
