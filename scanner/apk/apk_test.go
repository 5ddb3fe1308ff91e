package apk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/vuln"
)

func summary(pkgs []*vuln.Package) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, fmt.Sprintf("%s %s %s %s", p.Name, p.Version, p.Arch, p.SourceName()))
	}
	return out
}

func TestExcerpt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "installed"))
	if err != nil {
		t.Fatal(err)
	}
	r := scannertest.MustScan(t, &Scanner{}, InstalledPath, b)
	if len(r.Warnings) > 0 {
		t.Errorf("warnings %q", r.Warnings)
	}
	want := []string{
		"musl 1.2.2-r3 armv7 musl",
		"libcrypto1.1 1.1.1k-r0 armv7 openssl",
		"libssl1.1 1.1.1k-r0 armv7 openssl",
		"ca-certificates-bundle 20191127-r5 armv7 ca-certificates",
		"zlib 1.2.11-r3 armv7 zlib",
		"scanelf 1.3.2-r0 armv7 pax-utils",
		"ssl_client 1.33.1-r3 armv7 busybox",
		"libstdc++ 10.3.1_git20210424-r2 armv7 gcc",
	}
	if got := summary(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	got := r.Packages[6]
	wantPkg := &vuln.Package{
		Name:      "ssl_client",
		Version:   "1.33.1-r3",
		Kind:      vuln.KindBinary,
		Source:    &vuln.Package{Name: "busybox", Version: "1.33.1-r3", Kind: vuln.KindSource},
		Arch:      "armv7",
		PackageDB: "lib/apk/db/installed",
		Ecosystem: "apk",
		Purl:      "pkg:apk/alpine/ssl_client@1.33.1-r3?arch=armv7",
	}
	if !reflect.DeepEqual(got, wantPkg) {
		t.Errorf("got  %+v %+v\nwant %+v %+v", got, got.Source, wantPkg, wantPkg.Source)
	}
	if p := r.Packages[7]; p.Purl != "pkg:apk/alpine/libstdc%2B%2B@10.3.1_git20210424-r2?arch=armv7" {
		t.Errorf("purl %q", p.Purl)
	}
}

func TestRecords(t *testing.T) {
	in := "P:a\nV:1-r0\nA:x86_64\n\n" + // no origin: its own
		" \t\n" + // whitespace-only: a break
		"C:Q1x\nP:b\nV:2-r1\no:c\nx:unknown fields are kept out\n\n" +
		"P:d\n\n" + // no version: skipped with a warning
		"F:etc\nR:file\n\n" + // files without a package: ignored
		"P:e\nV: 3-r0 \n" // no final blank line
	r := scannertest.MustScan(t, &Scanner{}, InstalledPath, []byte(in))
	want := []string{"a 1-r0 x86_64 a", "b 2-r1  c", "e 3-r0  e"}
	if got := summary(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	if want := []string{`apk: lib/apk/db/installed: line 12: package "d" has no name or no version; skipped`}; !reflect.DeepEqual(r.Warnings, want) {
		t.Errorf("warnings %q", r.Warnings)
	}
	if p := r.Packages[1]; p.Purl != "pkg:apk/alpine/b@2-r1" {
		t.Errorf("purl without arch %q", p.Purl)
	}
	for _, empty := range []string{"", "\n\n\n"} {
		if r := scannertest.MustScan(t, &Scanner{}, InstalledPath, []byte(empty)); len(r.Packages)+len(r.Warnings) != 0 {
			t.Errorf("%q: %+v", empty, r)
		}
	}
}

func TestGarbage(t *testing.T) {
	tests := []struct{ in, err string }{
		{"garbage\n", `apk: lib/apk/db/installed: line 1: not a "X:value" line: "garbage"`},
		{"P:a\nV:1\n\nPackage: b\n", `apk: lib/apk/db/installed: line 4: not a "X:value" line: "Package: b"`},
		{"P:a\n1:x\n", `apk: lib/apk/db/installed: line 2: not a "X:value" line: "1:x"`},
		{"P:a\n:\n", `apk: lib/apk/db/installed: line 2: not a "X:value" line: ":"`},
		{"P:a\nV:1\nP:b\n", `apk: lib/apk/db/installed: line 3: second P: line in one record`},
		{"C:Q1\nF:etc\n\nR:x\n", `apk: lib/apk/db/installed: line 1: no record has a P: line; not an apk installed database`},
		{"P:a\nD:" + strings.Repeat("x", maxLine) + "\n", fmt.Sprintf("apk: lib/apk/db/installed: line 2: line longer than %d bytes", maxLine)},
		{"\x1f\x8b\x08\x00", `apk: lib/apk/db/installed: line 1: not a "X:value" line: "\x1f\x8b\b\x00"`},
	}
	for _, tt := range tests {
		_, err := scannertest.Scan(context.Background(), &Scanner{}, InstalledPath, []byte(tt.in))
		if err == nil || err.Error() != tt.err {
			t.Errorf("%.40q:\ngot  %v\nwant %s", tt.in, err, tt.err)
		}
	}
}

func TestLimits(t *testing.T) {
	r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: InstalledPath, Size: MaxSize + 1, R: strings.NewReader("")})
	if err != nil || len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "apk: lib/apk/db/installed: skipped: 268435457 bytes") {
		t.Errorf("Size over the bound: %+v, %v", r, err)
	}
	// File.MaxPackages: the read stops there, with a warning.
	db := strings.Repeat("P:a\nV:1\n\nP:b\nV:2\n\n", 10)
	r, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: InstalledPath, Size: int64(len(db)), R: strings.NewReader(db), MaxPackages: 3})
	if err != nil || len(r.Packages) != 3 || len(r.Warnings) != 1 || r.Warnings[0] != "apk: lib/apk/db/installed: line 10: more than 3 packages; the rest not read" {
		t.Errorf("MaxPackages: %d packages, %q, %v", len(r.Packages), r.Warnings, err)
	}
	r, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: InstalledPath, Size: int64(len(db)), R: strings.NewReader(db), MaxPackages: 20})
	if err != nil || len(r.Packages) != 20 || len(r.Warnings) != 0 {
		t.Errorf("MaxPackages reached at the end: %d packages, %q, %v", len(r.Packages), r.Warnings, err)
	}
	for _, tt := range []struct {
		size  int
		limit int64
		fail  bool
	}{{10, 10, false}, {11, 10, true}, {0, 0, false}, {5000, 4096, true}} {
		l := scanner.LimitReader(bytes.NewReader(make([]byte, tt.size)), tt.limit)
		b, err := io.ReadAll(l)
		if got := errors.Is(err, scanner.ErrTooLarge); got != tt.fail {
			t.Errorf("%d bytes, limit %d: err %v", tt.size, tt.limit, err)
		}
		if !tt.fail && len(b) != tt.size {
			t.Errorf("%d bytes, limit %d: read %d", tt.size, tt.limit, len(b))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&Scanner{}).Scan(ctx, scanner.File{Path: InstalledPath, R: strings.NewReader("P:a\nV:1\n")})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "apk: lib/apk/db/installed: ") {
		t.Errorf("cancelled: %v", err)
	}
	_, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: InstalledPath, R: io.MultiReader(strings.NewReader("P:a\n"), errReader{})})
	if err == nil || err.Error() != "apk: lib/apk/db/installed: boom" {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestWants(t *testing.T) {
	s := &Scanner{}
	if !s.Wants("lib/apk/db/installed") {
		t.Error("Wants(lib/apk/db/installed) = false")
	}
	for _, p := range []string{"/lib/apk/db/installed", "./lib/apk/db/installed", "lib/apk/db/installed.old", "lib/apk/db/scripts.tar", "x/lib/apk/db/installed"} {
		if s.Wants(p) {
			t.Errorf("Wants(%q) = true", p)
		}
	}
}

// countP counts P: lines with a V: in the same record, the crude way.
func countP(b []byte) int {
	n := 0
	for _, rec := range strings.Split(string(b), "\n\n") {
		if strings.Contains("\n"+rec, "\nP:") && strings.Contains("\n"+rec, "\nV:") {
			n++
		}
	}
	return n
}

func checkAll(t *testing.T, name string, r *scanner.Result) {
	t.Helper()
	for _, p := range r.Packages {
		if p.Name == "" || p.Version == "" || p.Arch == "" || p.Source == nil || p.Source.Name == "" || p.PackageDB != InstalledPath || p.Ecosystem != "apk" {
			t.Errorf("%s: incomplete %+v", name, p)
		}
		u, err := packageurl.FromString(p.Purl)
		if err != nil || u.Type != "apk" || u.Namespace != "alpine" || u.Name != p.Name || u.Version != p.Version || u.Qualifiers.Map()["arch"] != p.Arch {
			t.Errorf("%s: purl %q: %+v %v", name, p.Purl, u, err)
		}
	}
}

func TestShared(t *testing.T) {
	base := sharedtest.Path(t, "pkgdb")
	tests := []struct {
		file  string
		count int
		warns int
	}{
		{"rootfs/alpine-3.14-minirootfs/lib/apk/db/installed", 26, 0},
		{"apk/syft-multiple-2-installed", 14, 0},
		// trivy's fixture holds a "P:invalidPackageWithoutAVersion" record.
		{"apk/trivy-alpine-installed", 15, 1},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join(base, filepath.FromSlash(tt.file)))
		if err != nil {
			t.Fatal(err)
		}
		r := scannertest.MustScan(t, &Scanner{}, InstalledPath, b)
		if len(r.Packages) != tt.count || countP(b) != tt.count || len(r.Warnings) != tt.warns {
			t.Errorf("%s: %d packages (crude count %d), want %d; warnings %q", tt.file, len(r.Packages), countP(b), tt.count, r.Warnings)
		}
		checkAll(t, tt.file, r)
	}
}

// TestSharedLayer reads the database out of the real single layer of
// docker.io/library/alpine:3.18.9, as the indexer would hand it over.
func TestSharedLayer(t *testing.T) {
	f, err := os.Open(filepath.Join(sharedtest.Path(t, "pkgdb/layers"), "alpine-minirootfs-3.18.9-x86_64.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatal("no ./lib/apk/db/installed in the layer")
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "./lib/apk/db/installed" {
			continue
		}
		path := strings.TrimPrefix(h.Name, "./")
		s := &Scanner{}
		if !s.Wants(path) {
			t.Fatalf("Wants(%q) = false", path)
		}
		r, err := s.Scan(context.Background(), scanner.File{Path: path, Size: h.Size, Mode: h.FileInfo().Mode(), R: tr})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"alpine-baselayout 3.4.3-r1 x86_64 alpine-baselayout",
			"alpine-baselayout-data 3.4.3-r1 x86_64 alpine-baselayout",
			"alpine-keys 2.4-r1 x86_64 alpine-keys",
			"apk-tools 2.14.4-r0 x86_64 apk-tools",
			"busybox 1.36.1-r7 x86_64 busybox",
			"busybox-binsh 1.36.1-r7 x86_64 busybox",
			"ca-certificates-bundle 20240226-r0 x86_64 ca-certificates",
			"libc-utils 0.7.2-r5 x86_64 libc-dev",
			"libcrypto3 3.1.7-r0 x86_64 openssl",
			"libssl3 3.1.7-r0 x86_64 openssl",
			"musl 1.2.4-r2 x86_64 musl",
			"musl-utils 1.2.4-r2 x86_64 musl",
			"scanelf 1.3.7-r1 x86_64 pax-utils",
			"ssl_client 1.36.1-r7 x86_64 busybox",
			"zlib 1.2.13-r1 x86_64 zlib",
		}
		if got := summary(r.Packages); !reflect.DeepEqual(got, want) || len(r.Warnings) > 0 {
			t.Errorf("got %q, warnings %q", got, r.Warnings)
		}
		checkAll(t, "alpine 3.18.9", r)
		return
	}
}

func FuzzInstalled(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "installed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("P:a\nV:1\n\nP:b\nV:2\nA:x\no:c\n \nP:d\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := scannertest.Consistent(t, &Scanner{}, InstalledPath, b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "apk: lib/apk/db/installed: line ") {
				t.Fatalf("error %q does not name the file and line", err)
			}
			return
		}
		if len(r.Warnings) > maxWarnings+1 {
			t.Fatalf("%d warnings", len(r.Warnings))
		}
		for _, p := range r.Packages {
			if p.Name == "" || p.Version == "" || p.Kind != vuln.KindBinary || p.Source == nil || p.Source.Name == "" ||
				p.Source.Version != p.Version || p.Source.Kind != vuln.KindSource || p.PackageDB != InstalledPath || p.Ecosystem != "apk" {
				t.Fatalf("bad package %+v %+v", p, p.Source)
			}
			if u, _ := packageurl.FromString(p.Purl); u.Name != strings.ToLower(p.Name) || u.Version != p.Version {
				t.Fatalf("purl %q of %+v: %+v", p.Purl, p, u)
			}
		}
	})
}

func TestPurl(t *testing.T) {
	for _, tt := range []struct{ name, version, arch, want string }{
		{"libstdc++", "12.2.1_git20220924-r10", "x86_64", "pkg:apk/alpine/libstdc%2B%2B@12.2.1_git20220924-r10?arch=x86_64"},
		{"Upper", "1-r0", "", "pkg:apk/alpine/upper@1-r0"},
	} {
		if got := purl(tt.name, tt.version, tt.arch); got != tt.want {
			t.Errorf("purl(%q, %q, %q) = %q, want %q", tt.name, tt.version, tt.arch, got, tt.want)
		}
	}
}

func BenchmarkScan(b *testing.B) {
	one, err := os.ReadFile(filepath.Join("testdata", "installed"))
	if err != nil {
		b.Fatal(err)
	}
	big := bytes.Repeat(one, 1000)
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		r := scannertest.MustScan(b, &Scanner{}, InstalledPath, big)
		if len(r.Packages) != 8000 {
			b.Fatal(len(r.Packages))
		}
	}
}
