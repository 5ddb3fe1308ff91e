package dpkg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/vuln"
)

func find(pkgs []*vuln.Package, name string) *vuln.Package {
	for _, p := range pkgs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func TestStatusExcerpt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "debian-11-nginx-status"))
	if err != nil {
		t.Fatal(err)
	}
	r := scannertest.MustScan(t, &Scanner{}, StatusPath, b)
	if len(r.Warnings) > 0 {
		t.Errorf("warnings %q", r.Warnings)
	}
	var names []string
	for _, p := range r.Packages {
		names = append(names, p.Name)
	}
	want := []string{"bash", "bsdutils", "ca-certificates", "coreutils", "curl", "dash", "debconf", "debian-archive-keyring", "debianutils", "diffutils"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("packages %q", names)
	}
	got := find(r.Packages, "bsdutils")
	wantPkg := &vuln.Package{
		Name:      "bsdutils",
		Version:   "1:2.36.1-8+deb11u1",
		Kind:      vuln.KindBinary,
		Source:    &vuln.Package{Name: "util-linux", Version: "2.36.1-8+deb11u1", Kind: vuln.KindSource},
		Arch:      "amd64",
		PackageDB: "var/lib/dpkg/status",
		Ecosystem: "dpkg",
		Purl:      "pkg:deb/debian/bsdutils@1:2.36.1-8%2Bdeb11u1?arch=amd64",
	}
	if !reflect.DeepEqual(got, wantPkg) {
		t.Errorf("bsdutils:\ngot  %+v %+v\nwant %+v %+v", got, got.Source, wantPkg, wantPkg.Source)
	}
	// A binNMU: the binary's version is not the source's.
	if c := find(r.Packages, "coreutils"); c.Version != "8.32-4+b1" || c.SourceName() != "coreutils" || c.SourceVersion() != "8.32-4" {
		t.Errorf("coreutils: %+v %+v", c, c.Source)
	}
	// No Source field: the package is its own source.
	if c := find(r.Packages, "bash"); c.Source == nil || *c.Source != (vuln.Package{Name: "bash", Version: "5.1-2+deb11u1", Kind: vuln.KindSource}) {
		t.Errorf("bash: %+v %+v", c, c.Source)
	}
	for _, p := range r.Packages {
		u, err := packageurl.FromString(p.Purl)
		if err != nil || u.Name != p.Name || u.Version != p.Version || u.Qualifiers.Map()["arch"] != p.Arch {
			t.Errorf("%s: purl %q: %+v %v", p.Name, p.Purl, u, err)
		}
	}
}

func TestUbuntuExcerpt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "ubuntu-20.04-status"))
	if err != nil {
		t.Fatal(err)
	}
	r := scannertest.MustScan(t, &Scanner{}, StatusPath, b)
	if len(r.Packages) != 2 || r.Packages[0].Name != "systemd-sysv" || r.Packages[1].Name != "sysvinit-utils" {
		t.Fatalf("packages %+v", r.Packages)
	}
	if p := r.Packages[1]; p.Arch != "armhf" || p.SourceName() != "sysvinit" || p.SourceVersion() != "2.96-2.1ubuntu1" {
		t.Errorf("sysvinit-utils: %+v %+v", p, p.Source)
	}
}

func TestStatusD(t *testing.T) {
	const path = StatusDir + "libsqlite3-0"
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	r := scannertest.MustScan(t, &Scanner{}, path, b)
	if len(r.Packages) != 1 || len(r.Warnings) > 0 {
		t.Fatalf("got %+v", r)
	}
	p := r.Packages[0]
	want := &vuln.Package{
		Name: "libsqlite3-0", Version: "3.34.1-3", Kind: vuln.KindBinary, Arch: "arm64",
		Source:    &vuln.Package{Name: "sqlite3", Version: "3.34.1-3", Kind: vuln.KindSource},
		PackageDB: path, Ecosystem: "dpkg", Purl: "pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64",
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v", p)
	}
	// The same paragraph in dpkg's own database has no Status: not installed.
	r = scannertest.MustScan(t, &Scanner{}, StatusPath, b)
	if len(r.Packages) != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "dpkg: var/lib/dpkg/status: line 1: package \"libsqlite3-0\" has no Status field") {
		t.Errorf("in status: %+v", r)
	}
}

func TestStatusValues(t *testing.T) {
	in := "Package: a\nStatus: hold ok installed\nVersion: 1\n\n" +
		"Package: b\nStatus: install ok half-configured\nVersion: 1\n\n" +
		"Package: c\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
		"Package: d\nStatus: install reinstreq installed\nVersion: 1\n\n" +
		"package: e\nstatus: install  ok  installed\nversion: 2\nsource: f (3)\r\n\r\n" +
		"Package: g\nStatus: install ok installed\n\n" +
		"Package: h\nStatus: install ok installed\nVersion: 1\nSource: two words\n"
	r := scannertest.MustScan(t, &Scanner{}, StatusPath, []byte(in))
	var got []string
	for _, p := range r.Packages {
		got = append(got, fmt.Sprintf("%s %s %s %s", p.Name, p.Version, p.SourceName(), p.SourceVersion()))
	}
	want := []string{"a 1 a 1", "e 2 f 3", "h 1 two 1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	wantWarns := []string{
		`dpkg: var/lib/dpkg/status: line 22: installed package "g" has no name or no version; skipped`,
		`dpkg: var/lib/dpkg/status: line 25: package h: Source "two words" is not "name" or "name (version)"`,
	}
	if !reflect.DeepEqual(r.Warnings, wantWarns) {
		t.Errorf("warnings %q", r.Warnings)
	}
}

func TestSourceField(t *testing.T) {
	tests := []struct{ in, name, version string }{
		{"util-linux", "util-linux", "bin"},
		{"util-linux (2.36.1-8+deb11u1)", "util-linux", "2.36.1-8+deb11u1"},
		{"util-linux(2.36)", "util-linux", "2.36"},
		{" x  ( 1:2 ) ", "x", "1:2"},
		{"x (1", "x", "bin"},
		{"x ()", "x", "bin"},
		{"x (1) y", "x", "bin"},
		{"(1)", "", "bin"},
	}
	for _, tt := range tests {
		s, _ := sourcePackage(strings.TrimSpace(tt.in), "bin")
		if s.Name != tt.name || s.Version != tt.version || s.Kind != vuln.KindSource {
			t.Errorf("%q: got %+v", tt.in, s)
		}
	}
}

func TestGarbage(t *testing.T) {
	tests := []struct{ in, err string }{
		{"garbage\n", `dpkg: var/lib/dpkg/status: line 1: neither "Field: value", a continuation nor a blank line: "garbage"`},
		{"Package: a\nVersion: 1\n\n # x\n", `dpkg: var/lib/dpkg/status: line 4: continuation line outside a field`},
		{"Foo: bar\nBaz: 1\n\nQux: 2\n", `dpkg: var/lib/dpkg/status: line 1: no paragraph has a Package field; not a dpkg status file`},
		{"\n\nPackage: a\nVersion: 1\npackage: b\n", `dpkg: var/lib/dpkg/status: line 5: duplicate field "package" in one paragraph`},
		{"Package: a\n:x\n", `dpkg: var/lib/dpkg/status: line 2: neither "Field: value", a continuation nor a blank line: ":x"`},
		{"Pack age: a\n", `dpkg: var/lib/dpkg/status: line 1: invalid field name "Pack age"`},
		{"\x7fELF\x02\x01\x01\x00: x\n", `dpkg: var/lib/dpkg/status: line 1: invalid field name "\x7fELF\x02\x01\x01\x00"`},
		{"Package: a\nDepends: " + strings.Repeat("x", maxLine) + "\n", fmt.Sprintf("dpkg: var/lib/dpkg/status: line 2: line longer than %d bytes", maxLine)},
	}
	for _, tt := range tests {
		_, err := scannertest.Scan(context.Background(), &Scanner{}, StatusPath, []byte(tt.in))
		if err == nil || err.Error() != tt.err {
			t.Errorf("%.40q:\ngot  %v\nwant %s", tt.in, err, tt.err)
		}
	}
	// Whitespace-only lines: a break between paragraphs, part of a value
	// inside one (as dpkg reads them).
	r := scannertest.MustScan(t, &Scanner{}, StatusPath, []byte(" \t\nPackage: a\nStatus: install ok installed\nDescription: x\n \nVersion: 1\n\n"))
	if len(r.Packages) != 1 || r.Packages[0].Version != "1" {
		t.Errorf("whitespace lines: %+v", r.Packages)
	}
	// Only the fields read here must be unique.
	r = scannertest.MustScan(t, &Scanner{}, StatusPath, []byte("Package: a\nStatus: install ok installed\nVersion: 1\nFoo: 1\nfoo: 2\n"))
	if len(r.Packages) != 1 {
		t.Errorf("duplicate unread field: %+v", r.Packages)
	}
	for _, empty := range []string{"", "\n\n", " \n"} {
		r := scannertest.MustScan(t, &Scanner{}, StatusPath, []byte(empty))
		if len(r.Packages) != 0 || len(r.Warnings) != 0 {
			t.Errorf("%q: %+v", empty, r)
		}
	}
}

func TestLimits(t *testing.T) {
	r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: StatusPath, Size: MaxSize + 1, R: strings.NewReader("")})
	if err != nil || len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "dpkg: var/lib/dpkg/status: skipped: 268435457 bytes") {
		t.Errorf("Size over the bound: %+v, %v", r, err)
	}
	// File.MaxPackages: the read stops there, with a warning.
	db := strings.Repeat("Package: a\nStatus: install ok installed\nVersion: 1\n\n", 10)
	r, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: StatusPath, Size: int64(len(db)), R: strings.NewReader(db), MaxPackages: 3})
	if err != nil || len(r.Packages) != 3 || len(r.Warnings) != 1 || r.Warnings[0] != "dpkg: var/lib/dpkg/status: line 13: more than 3 packages; the rest not read" {
		t.Errorf("MaxPackages: %d packages, %q, %v", len(r.Packages), r.Warnings, err)
	}
	// The reader fails on the byte past the bound, whatever Size said.
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
	big := strings.Repeat("Package: a\nStatus: install ok installed\nVersion: 1\n\n", 2000)
	_, err = (&Scanner{}).Scan(ctx, scanner.File{Path: StatusPath, R: strings.NewReader(big)})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "dpkg: var/lib/dpkg/status: ") {
		t.Errorf("cancelled: %v", err)
	}
	_, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: StatusPath, R: io.MultiReader(strings.NewReader("Package: a\n"), errReader{})})
	if err == nil || err.Error() != "dpkg: var/lib/dpkg/status: boom" {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestWants(t *testing.T) {
	s := &Scanner{}
	yes := []string{"var/lib/dpkg/status", "var/lib/dpkg/status.d/base-files", "var/lib/dpkg/status.d/libc6", "var/lib/dpkg/status.d/tzdata.x"}
	no := []string{"var/lib/dpkg/status-old", "var/lib/dpkg/status.d/", "var/lib/dpkg/status.d/base-files.md5sums",
		"var/lib/dpkg/status.d/x.list", "var/lib/dpkg/status.d/.hidden", "var/lib/dpkg/status.d/sub/x",
		"/var/lib/dpkg/status", "usr/lib/dpkg/status", "var/lib/dpkg/available", "var/lib/dpkg/status.d"}
	for _, p := range yes {
		if !s.Wants(p) {
			t.Errorf("Wants(%q) = false", p)
		}
	}
	for _, p := range no {
		if s.Wants(p) {
			t.Errorf("Wants(%q) = true", p)
		}
	}
}

// dpkgQuery lists the installed packages of a status file as dpkg itself
// reads them: "name arch version source source-version".
func dpkgQuery(t *testing.T, status []byte) []string {
	t.Helper()
	bin, err := exec.LookPath("dpkg-query")
	if err != nil {
		t.Skip("dpkg-query not installed; comparison with dpkg skipped")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "status"), status, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--admindir="+dir, "-W", "-f=${Status}\t${Package}\t${Architecture}\t${Version}\t${source:Package}\t${source:Version}\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v: %s", err, stderr.Bytes())
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 6 {
			t.Fatalf("dpkg-query line %q", l)
		}
		if f[0] != "install ok installed" && f[0] != "hold ok installed" {
			continue
		}
		lines = append(lines, strings.Join(f[1:], " "))
	}
	sort.Strings(lines)
	return lines
}

func ours(pkgs []*vuln.Package) []string {
	var lines []string
	for _, p := range pkgs {
		lines = append(lines, strings.Join([]string{p.Name, p.Arch, p.Version, p.SourceName(), p.SourceVersion()}, " "))
	}
	sort.Strings(lines)
	return lines
}

func compareWithDpkg(t *testing.T, name string, b []byte, pkgs []*vuln.Package) {
	t.Helper()
	theirs := dpkgQuery(t, b)
	mine := ours(pkgs)
	if !reflect.DeepEqual(mine, theirs) {
		t.Errorf("%s: ours (%d) and dpkg-query's (%d) differ", name, len(mine), len(theirs))
		for i := 0; i < len(mine) || i < len(theirs); i++ {
			var a, b string
			if i < len(mine) {
				a = mine[i]
			}
			if i < len(theirs) {
				b = theirs[i]
			}
			if a != b {
				t.Logf("  ours %q / dpkg %q", a, b)
			}
		}
		return
	}
	t.Logf("%s: %d installed packages, identical to dpkg-query's", name, len(mine))
}

func TestDpkgQueryExcerpts(t *testing.T) {
	for _, f := range []string{"debian-11-nginx-status", "ubuntu-20.04-status"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		compareWithDpkg(t, f, b, scannertest.MustScan(t, &Scanner{}, StatusPath, b).Packages)
	}
}

// countInstalled counts installed paragraphs the crude way, as a check on
// the parser that does not share its code.
func countInstalled(b []byte) int {
	n := 0
	for _, para := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		if strings.Contains("\n"+para+"\n", "\nPackage: ") &&
			(strings.Contains("\n"+para+"\n", "\nStatus: install ok installed\n") || strings.Contains("\n"+para+"\n", "\nStatus: hold ok installed\n")) {
			n++
		}
	}
	return n
}

func TestShared(t *testing.T) {
	base := sharedtest.Path(t, "pkgdb")
	tests := []struct {
		file  string
		count int
		dpkg  bool // compare with dpkg-query
	}{
		{"rootfs/debian-11-nginx/var/lib/dpkg/status", 142, true},
		{"rootfs/debian-12-python3.12-slim-langflow/var/lib/dpkg/status", 140, true},
		{"rootfs/ubuntu-20.04-base-industio/var/lib/dpkg/status", 326, true},
		{"dpkg/claircore-debian-only.status", 1, true},
		{"dpkg/claircore-postgresql.status", 3, true},
		{"dpkg/claircore-texlive.status", 357, true},
		{"dpkg/trivy-ubuntu-status", 90, true},
		{"dpkg/trivy-valid.txtar", 90, true},
		// vcpkg's database borrows the format; its 9 "Feature"
		// paragraphs have no Version and dpkg-query refuses the file.
		{"dpkg/claircore-vcpkg.status", 15, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(base, filepath.FromSlash(tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tt.file, ".txtar") {
				b = sharedtest.Txtar(b)["var/lib/dpkg/status"]
			}
			r := scannertest.MustScan(t, &Scanner{}, StatusPath, b)
			if len(r.Packages) != tt.count {
				t.Errorf("%d packages, want %d", len(r.Packages), tt.count)
			}
			if !tt.dpkg && len(r.Warnings) != 9 {
				t.Errorf("warnings %q", r.Warnings)
			}
			if tt.dpkg {
				if n := countInstalled(b); n != tt.count {
					t.Errorf("crude count %d, want %d", n, tt.count)
				}
				if len(r.Warnings) > 0 {
					t.Errorf("warnings %q", r.Warnings)
				}
			}
			for _, p := range r.Packages {
				if p.Name == "" || p.Version == "" || p.Arch == "" || p.Source == nil || p.Source.Name == "" || p.PackageDB != StatusPath || p.Purl == "" {
					t.Errorf("incomplete %+v", p)
				}
			}
			if tt.dpkg {
				compareWithDpkg(t, tt.file, b, r.Packages)
			}
		})
	}
}

// trivy's fixture has Go values printed after its one paragraph; dpkg-query
// refuses it too ("field name '[{acl' must be followed by colon").
func TestSharedGarbage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedtest.Path(t, "pkgdb/dpkg"), "trivy-dpkg_apt-status"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = scannertest.Scan(context.Background(), &Scanner{}, StatusPath, b)
	if err == nil || !strings.HasPrefix(err.Error(), `dpkg: var/lib/dpkg/status: line 37: invalid field name "[{acl 2.2.52-3build1`) {
		t.Errorf("got %v", err)
	}
	// The one real paragraph, alone, reads.
	head, _, _ := bytes.Cut(b, []byte("\n\n["))
	r := scannertest.MustScan(t, &Scanner{}, StatusPath, head)
	if len(r.Packages) != 1 || r.Packages[0].Name != "apt" || r.Packages[0].Version != "1.6.3ubuntu0.1" {
		t.Errorf("apt: %+v", r.Packages)
	}
}

func TestSharedNginx(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedtest.Path(t, "pkgdb/rootfs/debian-11-nginx"), "var", "lib", "dpkg", "status"))
	if err != nil {
		t.Fatal(err)
	}
	r := scannertest.MustScan(t, &Scanner{}, StatusPath, b)
	p := find(r.Packages, "bsdutils")
	if p == nil || p.Version != "1:2.36.1-8+deb11u1" || p.SourceName() != "util-linux" || p.SourceVersion() != "2.36.1-8+deb11u1" {
		t.Errorf("bsdutils: %+v", p)
	}
	if p := find(r.Packages, "nginx"); p == nil || p.SourceName() != "nginx" {
		t.Errorf("nginx: %+v", p)
	}
}

func FuzzStatus(f *testing.F) {
	for _, name := range []string{"debian-11-nginx-status", "ubuntu-20.04-status", "var/lib/dpkg/status.d/libsqlite3-0"} {
		b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte("Package: a\nStatus: hold ok installed\nVersion: 1\nSource: b (2)\n\n \t\nPackage: c\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, statusD bool) {
		path := StatusPath
		if statusD {
			path = StatusDir + "x"
		}
		r, err := scannertest.Consistent(t, &Scanner{}, path, b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dpkg: "+path+": line ") {
				t.Fatalf("error %q does not name the file and line", err)
			}
			return
		}
		if len(r.Warnings) > maxWarnings+1 {
			t.Fatalf("%d warnings", len(r.Warnings))
		}
		for _, p := range r.Packages {
			if p.Name == "" || p.Version == "" || p.Kind != vuln.KindBinary || p.Source == nil || p.Source.Name == "" ||
				p.Source.Version == "" || p.Source.Kind != vuln.KindSource || p.PackageDB != path || p.Ecosystem != "dpkg" {
				t.Fatalf("bad package %+v %+v", p, p.Source)
			}
			if strings.ContainsAny(p.Name+p.Version+p.Arch+p.Source.Name+p.Source.Version, "\n") {
				t.Fatalf("newline in %+v", p)
			}
			if u, _ := packageurl.FromString(p.Purl); u.Name != strings.ToLower(p.Name) || u.Version != p.Version {
				t.Fatalf("purl %q of %+v: %+v", p.Purl, p, u)
			}
		}
	})
}

func TestPurl(t *testing.T) {
	for _, tt := range []struct{ name, version, arch, want string }{
		{"libstdc++6", "12.2.0-14", "amd64", "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64"},
		{"Upper", "1:2~rc1", "", "pkg:deb/debian/upper@1:2~rc1"},
	} {
		if got := purl(tt.name, tt.version, tt.arch); got != tt.want {
			t.Errorf("purl(%q, %q, %q) = %q, want %q", tt.name, tt.version, tt.arch, got, tt.want)
		}
	}
}

// BenchmarkScan reads a real excerpt repeated to a few MiB, the size of a
// large image's database.
func BenchmarkScan(b *testing.B) {
	one, err := os.ReadFile(filepath.Join("testdata", "debian-11-nginx-status"))
	if err != nil {
		b.Fatal(err)
	}
	one = append(one, '\n')
	big := bytes.Repeat(one, 500)
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		r := scannertest.MustScan(b, &Scanner{}, StatusPath, big)
		if len(r.Packages) != 5000 {
			b.Fatal(len(r.Packages))
		}
	}
}
