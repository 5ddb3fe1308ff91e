package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
// volatile formats carry fields meant to differ between runs (see
// normalise); the others must be byte-identical from run to run.
var goldenFormats = []struct {
	name, ext string
	volatile  bool
}{
	{"table", "txt", false},
	{"json", "json", false},
	{"sarif", "sarif.json", false},
	{"cyclonedx", "cdx.json", true},
	{"spdx", "spdx.json", true},
	{"html", "", false},
	{"cosign-vuln", "", true},
}

// TestGolden scans the repository's real images with the real feed excerpts
// (and the enrichment excerpts) and compares every report format with its
// golden file in testdata/golden/. It scans each image twice per format
// from the same database: both outputs must be byte-identical (after
// normalisation for the volatile formats only), so that map order cannot
// hide behind the golden comparison.
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
					raw1, raw2 := scan(), scan()
					first, second := normalise(t, f.name, f.volatile, raw1), normalise(t, f.name, f.volatile, raw2)
					// Not written with -update either: a golden of an
					// unstable output would fail at random.
					switch {
					case first != second:
						t.Fatalf("two scans of the same image differ:\n%s", unifiedDiff("first", "second", first, second))
					case !f.volatile && raw1 != raw2:
						t.Fatalf("two scans of the same image differ:\n%s", unifiedDiff("first", "second", raw1, raw2))
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
	// When the report was made: CycloneDX metadata.timestamp, SPDX
	// creationInfo.created, cosign-vuln's scanStartedOn/scanFinishedOn.
	timestampRE = regexp.MustCompile(`"(timestamp|created|scanStartedOn|scanFinishedOn)": "[^"]*"`)
	// CycloneDX serialNumber is a fresh urn:uuid per BOM, as the spec asks.
	serialRE = regexp.MustCompile(`"serialNumber": "urn:uuid:[^"]*"`)
	// SPDX documentNamespace must be unique per document, so it carries a UUID.
	namespaceRE = regexp.MustCompile(`("documentNamespace": "[^"]*?)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// normalise indents the JSON formats (written compact, one line) so that a
// golden diff shows the changed field rather than one enormous line, and
// in the volatile ones replaces the fields meant to vary. Indenting keeps
// the key order as written: an unstable order still fails.
func normalise(t *testing.T, format string, volatile bool, out string) string {
	t.Helper()
	if format == "table" || format == "html" {
		return out
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(out), "", "  "); err != nil {
		t.Fatalf("%s output is not JSON: %v", format, err)
	}
	s := buf.String()
	if !volatile {
		return s
	}
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

// unifiedDiff renders the first hunk in which a and b differ as a unified
// diff with three lines of context: goldens are large, and the first
// change is what tells what broke. Lines are matched by a longest common
// subsequence over a window of 400 lines from the first difference,
// which keeps the work bounded on files of thousands of lines.
func unifiedDiff(nameA, nameB, a, b string) string {
	const ctx, window, maxLines, maxWidth = 3, 400, 60, 200
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	p := 0
	for p < len(al) && p < len(bl) && al[p] == bl[p] {
		p++
	}
	if p == len(al) && p == len(bl) {
		return "(no difference)\n"
	}
	aw, bw := al[p:min(len(al), p+window)], bl[p:min(len(bl), p+window)]
	// lcs[i][j] is the length of the longest common subsequence of aw[i:]
	// and bw[j:].
	lcs := make([][]int, len(aw)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(bw)+1)
	}
	for i := len(aw) - 1; i >= 0; i-- {
		for j := len(bw) - 1; j >= 0; j-- {
			if aw[i] == bw[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-' or '+'
		line string
	}
	var ops []op
	start := max(p-ctx, 0)
	for _, l := range al[start:p] {
		ops = append(ops, op{' ', l})
	}
	// Walk the window, ending the hunk after ctx equal lines past the last
	// change when 2*ctx equal lines separate it from the next one.
	i, j, equal, more := 0, 0, 0, false
	for i < len(aw) || j < len(bw) {
		switch {
		case i < len(aw) && j < len(bw) && aw[i] == bw[j]:
			if equal == ctx {
				// Look ahead: is another change near?
				k := 0
				for i+k < len(aw) && j+k < len(bw) && aw[i+k] == bw[j+k] && k < ctx {
					k++
				}
				if k == ctx {
					more = !slices.Equal(al[p+i:], bl[p+j:])
					i, j = len(aw), len(bw)
					continue
				}
			}
			ops = append(ops, op{' ', aw[i]})
			i, j, equal = i+1, j+1, equal+1
		case i < len(aw) && (j == len(bw) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', aw[i]})
			i, equal = i+1, 0
		default:
			ops = append(ops, op{'+', bw[j]})
			j, equal = j+1, 0
		}
	}
	if len(ops) > maxLines {
		ops, more = ops[:maxLines], true
	}
	na, nb := 0, 0
	for _, o := range ops {
		if o.kind != '+' {
			na++
		}
		if o.kind != '-' {
			nb++
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--- %s\n+++ %s\n@@ -%d,%d +%d,%d @@\n", nameA, nameB, start+1, na, start+1, nb)
	for _, o := range ops {
		line := o.line
		if len(line) > maxWidth {
			line = line[:maxWidth] + "…"
		}
		buf.WriteString(string(o.kind) + line + "\n")
	}
	if more {
		buf.WriteString("(more differences follow)\n")
	}
	return buf.String()
}

func TestUnifiedDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"
	b := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\n13\n14\n"
	// The hunk shows the change of line 5 with its context; the added line
	// 14 is further than 2*3 lines away: a later hunk, only announced.
	want := `--- a
+++ b
@@ -2,7 +2,7 @@
 2
 3
 4
-5
+five
 6
 7
 8
(more differences follow)
`
	if got := unifiedDiff("a", "b", a, b); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Inserted lines inside the window are matched, not shown as a
	// replacement of everything after them.
	want = `--- a
+++ b
@@ -1,4 +1,5 @@
 x
+new
 y
 z
 w
`
	if got := unifiedDiff("a", "b", "x\ny\nz\nw", "x\nnew\ny\nz\nw"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	long := strings.Repeat("x", 300)
	if got := unifiedDiff("a", "b", "y\n", long+"\n"); !strings.Contains(got, "+"+strings.Repeat("x", 200)+"…\n") || strings.Contains(got, strings.Repeat("x", 201)) {
		t.Errorf("a long line is not cut at 200 bytes:\n%s", got)
	}
}
