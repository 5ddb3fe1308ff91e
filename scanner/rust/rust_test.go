package rust

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
)

// The shared files, under ../shared/testdata.
const (
	lockFile = "pkgdb/lockfiles/rust/trivy-ci-test-Cargo.lock"
	golden   = "peer-results/trivy/fanal-package-goldens/vuln-image1.2.3.expectedlibs.golden"
)

// readShared reads the shared file rel, skipping the test when it is absent.
func readShared(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedtest.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestELF scans testdata/trivy-ci-test.elf, a real rustc-linked executable
// whose .dep-v0 section holds the crate set of trivy's trivy-ci-test
// Cargo.lock (see testdata/elf/README.md), and compares with what trivy
// reports for that lock file: the same 74 crates, the root included.
func TestELF(t *testing.T) {
	elf, err := os.ReadFile("testdata/trivy-ci-test.elf")
	if err != nil {
		t.Fatal(err)
	}
	const p = "usr/local/bin/normal"
	res := scannertest.MustScan(t, &Scanner{}, p, elf)
	if len(res.Warnings) != 0 {
		t.Fatal(res.Warnings)
	}
	got := map[string]bool{}
	for _, pkg := range res.Packages {
		if pkg.Ecosystem != Ecosystem || pkg.Path != p || pkg.PackageDB != p || pkg.Kind != "binary" ||
			pkg.Purl != "pkg:cargo/"+pkg.Name+"@"+pkg.Version {
			t.Errorf("%+v", pkg)
		}
		got[pkg.Name+"@"+pkg.Version] = true
	}
	if len(got) != 74 || !got["normal@0.1.0"] || !got["ammonia@1.9.0"] || !got["smallvec@0.6.9"] {
		t.Fatalf("%d crates: %v", len(got), got)
	}

	// The section is what auditJSON derives from the lock file.
	lock := readShared(t, lockFile)
	want := deflate(t, auditJSON(t, string(lock), "normal"))
	if !bytes.Contains(elf, want) {
		t.Error("the ELF's section is not auditJSON's rendering of the lock file: rebuild it (testdata/elf/README.md)")
	}

	var doc []struct {
		FilePath string
		Packages []struct{ Name, Version string }
	}
	if err := json.Unmarshal(readShared(t, golden), &doc); err != nil {
		t.Fatal(err)
	}
	var trivy []string
	for _, app := range doc {
		if app.FilePath == "rust-app/Cargo.lock" {
			for _, p := range app.Packages {
				trivy = append(trivy, p.Name+"@"+p.Version)
			}
		}
	}
	if len(trivy) != len(got) {
		t.Errorf("trivy has %d crates, we %d", len(trivy), len(got))
	}
	for _, k := range trivy {
		if !got[k] {
			t.Errorf("trivy's %s missing", k)
		}
	}
}

// TestSelection runs the section of a crate set with every kind of entry:
// build-only crates and path, git and alternative-registry crates are
// left out, the root and crates.io runtime crates kept.
func TestSelection(t *testing.T) {
	section := deflate(t, []byte(`{"packages":[
		{"name":"app","version":"0.3.0","source":"local","dependencies":[1,2,3,4,5],"root":true},
		{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"},
		{"name":"helper","version":"0.1.0","source":"local"},
		{"name":"forked","version":"1.2.3","source":"git"},
		{"name":"private","version":"2.0.0","source":"registry"},
		{"name":"regex","version":"1.5.4","source":"crates.io","kind":"runtime"},
		{"name":"time","version":"0.1.44","source":"crates.io"},
		{"name":"bad name","version":"1.0.0","source":"crates.io"},
		{"name":"badver","version":"1.0","source":"crates.io"}
	]}`))
	crates, skipped, err := ParseSection(bytes.NewReader(section))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range crates {
		got = append(got, c.Name+"@"+c.Version)
	}
	// "1.0" is the shorthand the cargo scheme accepts for advisories.
	want := "app@0.3.0 regex@1.5.4 time@0.1.44 badver@1.0"
	if strings.Join(got, " ") != want || skipped != 1 || !crates[0].Root {
		t.Errorf("got %v, %d skipped", got, skipped)
	}
}

func TestNotRust(t *testing.T) {
	// Not executables, or executables without the section: nothing, no
	// warning. Short files are not read.
	for name, b := range map[string][]byte{
		"text":      bytes.Repeat([]byte("#!/bin/sh\necho hi\n"), 100),
		"empty":     nil,
		"short elf": []byte("\x7fELF"),
		"java":      append([]byte("\xca\xfe\xba\xbe"), make([]byte, 2000)...),
		"mz":        append([]byte("MZ"), make([]byte, 2000)...),
	} {
		if res := scannertest.MustScan(t, &Scanner{}, "usr/bin/x", b); len(res.Packages)+len(res.Warnings) != 0 {
			t.Errorf("%s: %+v", name, res)
		}
	}
	// This test binary is an ELF without the section.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxInMemory {
		t.Skip("test binary larger than MaxInMemory")
	}
	if res := scannertest.MustScan(t, &Scanner{}, "usr/bin/go-test", b); len(res.Packages) != 0 {
		t.Errorf("%+v", res)
	}
}

func TestBrokenSection(t *testing.T) {
	elf, err := os.ReadFile("testdata/trivy-ci-test.elf")
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite the zlib header of the section: a warning naming the file.
	i := bytes.Index(elf, []byte{0x78, 0xda})
	if i < 0 {
		t.Fatal("no zlib stream in the ELF")
	}
	bad := bytes.Clone(elf)
	bad[i], bad[i+1] = 'x', 'x'
	res := scannertest.MustScan(t, &Scanner{}, "usr/bin/normal", bad)
	if len(res.Packages) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "usr/bin/normal") {
		t.Fatalf("%+v", res)
	}
	// An ELF cut in its section header table (at the end, after the
	// section names): a warning, not a failure.
	res = scannertest.MustScan(t, &Scanner{}, "usr/bin/normal", elf[:len(elf)-64])
	if len(res.Packages) != 0 || len(res.Warnings) != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestParseSectionErrors(t *testing.T) {
	for name, b := range map[string][]byte{
		"not zlib":    []byte("{}"),
		"not json":    deflate(t, []byte("packages")),
		"no packages": deflate(t, []byte(`{"other":1}`)),
		"bomb":        deflate(t, append([]byte(`{"packages":[`), bytes.Repeat([]byte(" "), MaxJSON+1)...)),
	} {
		if _, _, err := ParseSection(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWants(t *testing.T) {
	scannertest.Wants(t, &Scanner{}, map[string]bool{
		"usr/local/cargo/bin/rg": true,
		"usr/bin/rg":             true,
		"app/server":             true,
		"srv/tool.exe":           true,
		"srv/lib.so":             false,
		"usr/share/doc/x/README": false,
		"etc/passwd":             false,
		"":                       false,
	})
}

func TestSpilled(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large temporary file")
	}
	elf, err := os.ReadFile("testdata/trivy-ci-test.elf")
	if err != nil {
		t.Fatal(err)
	}
	// A size above MaxInMemory sends the file through a temporary file; the
	// reader still holds the small ELF.
	res, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: "usr/bin/normal", Size: MaxInMemory + 1, R: bytes.NewReader(elf)})
	if err != nil || len(res.Packages) != 74 {
		t.Fatalf("%v, %v", res, err)
	}
	names := make([]string, 0, len(res.Packages))
	for _, p := range res.Packages {
		names = append(names, p.Name)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("not in section order: %v", names)
	}
}
