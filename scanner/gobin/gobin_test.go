package gobin

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/vuln"
)

// modSet renders packages as sorted "path@version" lines.
func modSet(pkgs []*vuln.Package) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, p.Name+"@"+p.Version)
	}
	sort.Strings(out)
	return out
}

// goVersionM runs `go version -m` and returns what it says the binary holds,
// in the scanner's terms: main module, dependencies with replacements
// applied, and stdlib.
func goVersionM(t *testing.T, file string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	cmd := exec.Command(gobin, "version", "-m", file)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go version -m %s: %v", file, err)
	}
	var mods []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			_, v, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("go version -m: first line %q", line)
			}
			if sv, ok := StdlibVersion(v); ok {
				mods = append(mods, "stdlib@"+sv)
			}
			continue
		}
		f := strings.Split(strings.TrimPrefix(line, "\t"), "\t")
		switch f[0] {
		case "mod", "dep":
			v := f[2]
			if f[0] == "mod" && v == "" {
				v = DevelVersion
			}
			mods = append(mods, f[1]+"@"+v)
		case "=>":
			mods = mods[:len(mods)-1]
			if len(f) > 2 && f[2] != "" {
				mods = append(mods, f[1]+"@"+f[2])
			}
		}
	}
	sort.Strings(mods)
	return mods
}

func TestSharedBinaries(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/golang-binaries")
	want := map[string][]string{
		"trivy-goexperiment.elf":                 {"stdlib@v1.22.1"},
		"trivy-main-version-via-ldflags.elf":     {"github.com/aquasecurity/test@(devel)", "stdlib@v1.22.1"},
		"trivy-semver-main-module-version.macho": {"go.etcd.io/bbolt@v1.3.5", "stdlib@v1.20.6"},
		"trivy-test.elf": {
			"github.com/aquasecurity/go-pep440-version@v0.0.0-20210121094942-22b2f8951d46",
			"github.com/aquasecurity/go-version@v0.0.0-20210121072130-637058cfe492",
			"github.com/aquasecurity/test@(devel)",
			"golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1",
			"stdlib@v1.15.2",
		},
	}
	ents, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(want) {
		t.Errorf("%d files in %s, want %d", len(ents), d, len(want))
	}
	for _, e := range ents {
		t.Run(e.Name(), func(t *testing.T) {
			file := filepath.Join(d, e.Name())
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p := "usr/local/bin/" + e.Name()
			if !(&Scanner{}).Wants(p) {
				t.Errorf("Wants(%q) = false", p)
			}
			r := scannertest.MustScan(t, &Scanner{}, p, b)
			if len(r.Warnings) > 0 {
				t.Errorf("warnings %q", r.Warnings)
			}
			got := modSet(r.Packages)
			if w, ok := want[e.Name()]; ok && !reflect.DeepEqual(got, w) {
				t.Errorf("packages\n got %q\nwant %q", got, w)
			}
			if gv := goVersionM(t, file); !reflect.DeepEqual(got, gv) {
				t.Errorf("packages differ from go version -m\n got %q\n  go %q", got, gv)
			}
			for _, pkg := range r.Packages {
				if pkg.Kind != vuln.KindBinary || pkg.Ecosystem != "go" || pkg.Path != p || pkg.PackageDB != p || pkg.Source != nil {
					t.Errorf("package %+v", pkg)
				}
			}
		})
	}
}

func TestPackageFields(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/golang-binaries")
	b, err := os.ReadFile(filepath.Join(d, "trivy-test.elf"))
	if err != nil {
		t.Fatal(err)
	}
	r := scannertest.MustScan(t, &Scanner{}, "app/server", b)
	var got *vuln.Package
	for _, p := range r.Packages {
		if p.Name == "golang.org/x/xerrors" {
			got = p
		}
	}
	want := &vuln.Package{
		Name:      "golang.org/x/xerrors",
		Version:   "v0.0.0-20200804184101-5ec99f83aff1",
		Kind:      "binary",
		Ecosystem: "go",
		Purl:      "pkg:golang/golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1",
		Path:      "app/server",
		PackageDB: "app/server",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, p := range r.Packages {
		if p.Name == "stdlib" && p.Purl != "pkg:golang/stdlib@v1.15.2" {
			t.Errorf("stdlib purl %q", p.Purl)
		}
	}
}

var (
	tinyOnce sync.Once
	tinyBin  []byte
	tinyErr  error
)

// tiny builds a Go program without dependencies, once per test binary.
func tiny(t *testing.T) []byte {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	tinyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gobin-tiny-*")
		if err != nil {
			tinyErr = err
			return
		}
		defer os.RemoveAll(dir)
		files := map[string]string{
			"go.mod":  "module example.com/tiny\n\ngo 1.21\n",
			"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"tiny\") }\n",
		}
		for n, c := range files {
			if tinyErr = os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); tinyErr != nil {
				return
			}
		}
		cmd := exec.Command(gobin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", "tiny", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			tinyErr = err
			t.Logf("%s", out)
			return
		}
		tinyBin, tinyErr = os.ReadFile(filepath.Join(dir, "tiny"))
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyBin
}

func TestTinyBinary(t *testing.T) {
	b := tiny(t)
	r := scannertest.MustScan(t, &Scanner{}, "usr/bin/tiny", b)
	if len(r.Warnings) > 0 {
		t.Errorf("warnings %q", r.Warnings)
	}
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	sv, ok := StdlibVersion(strings.TrimSpace(string(out)))
	if !ok {
		t.Skipf("toolchain %s has no release version", out)
	}
	want := []string{"example.com/tiny@" + DevelVersion, "stdlib@" + sv}
	if got := modSet(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	// The same through a temporary file, as for executables too large for memory.
	rs, err := scanSpilled(context.Background(), scanner.File{Path: "usr/bin/tiny", Size: int64(len(b))}, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := modSet(rs.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("spilled: got %q, want %q", got, want)
	}
}

func TestTruncated(t *testing.T) {
	b := tiny(t)
	i := bytes.Index(b, buildInfoMagic)
	if i < 0 {
		t.Fatal("no build info magic in the tiny binary")
	}
	// Cut right after the magic: the blob is gone, and so are the section
	// headers at the end of the ELF file.
	r := scannertest.MustScan(t, &Scanner{}, "usr/bin/tiny", b[:i+len(buildInfoMagic)+4])
	if len(r.Packages) != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "usr/bin/tiny") {
		t.Errorf("got %d packages, warnings %q", len(r.Packages), r.Warnings)
	}
	// A damaged blob: the version pointer and strings are garbage.
	c := bytes.Clone(b)
	for j := i + len(buildInfoMagic); j < i+64 && j < len(c); j++ {
		c[j] = 0xff
	}
	r = scannertest.MustScan(t, &Scanner{}, "usr/bin/tiny", c)
	if len(r.Packages) != 0 || len(r.Warnings) != 1 {
		t.Errorf("damaged: got %d packages, warnings %q", len(r.Packages), r.Warnings)
	}
}

func TestNotGo(t *testing.T) {
	for _, c := range []struct{ name, path string }{
		{"text", "usr/bin/script"},
		{"empty", "usr/bin/empty"},
	} {
		var b []byte
		if c.name == "text" {
			b = bytes.Repeat([]byte("#!/bin/sh\necho hello\n"), 100)
		}
		r := scannertest.MustScan(t, &Scanner{}, c.path, b)
		if len(r.Packages) != 0 || len(r.Warnings) != 0 {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
	// A non-Go ELF from the host, when there is one.
	for _, p := range []string{"/bin/true", "/usr/bin/true", "/bin/ls"} {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte("\x7fELF")) || bytes.Contains(b, buildInfoMagic) {
			continue
		}
		r := scannertest.MustScan(t, &Scanner{}, strings.TrimPrefix(p, "/"), b)
		if len(r.Packages) != 0 || len(r.Warnings) != 0 {
			t.Errorf("%s: %+v", p, r)
		}
		break
	}
}

func TestTooLarge(t *testing.T) {
	head := append([]byte("\x7fELF"), make([]byte, 60)...)
	r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: "opt/big", Size: MaxSize + 1, R: bytes.NewReader(head)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "opt/big") {
		t.Errorf("warnings %q", r.Warnings)
	}
	// Not an executable: no warning whatever the size.
	r, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: "opt/big", Size: MaxSize + 1, R: strings.NewReader("just text")})
	if err != nil || len(r.Warnings) != 0 {
		t.Errorf("%+v, %v", r, err)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Scanner{}).Scan(ctx, scanner.File{Path: "bin/x", R: strings.NewReader("x")}); err == nil || !strings.Contains(err.Error(), "bin/x") {
		t.Errorf("err %v", err)
	}
}

func TestWants(t *testing.T) {
	s := &Scanner{}
	scannertest.Wants(t, s, map[string]bool{
		"usr/bin/kubectl":                       true,
		"usr/local/bin/helm":                    true,
		"bin/busybox":                           true,
		"sbin/init":                             true,
		"usr/sbin/thing.real":                   true,
		"opt/app/server.v2":                     true,
		"app/main":                              true,
		"usr/local/go/bin/go":                   true,
		"usr/local/go/pkg/tool/linux_amd64/vet": true,
		"srv/thing":                             true,
		"windows/app.exe":                       true,
		"root/.cache/thing.txt":                 false,
		"usr/lib/x86_64-linux-gnu/libc.so.6":    false,
		"usr/share/doc/bash/copyright":          false,
		"etc/hostname":                          false,
		"var/lib/dpkg/status":                   false,
		"home/user/notes.md":                    false,
		"":                                      false,
	})
}

func TestStdlibVersion(t *testing.T) {
	for in, want := range map[string]string{
		"go1.22.1":           "v1.22.1",
		"go1.22.1 X:loopvar": "v1.22.1",
		"go1.20":             "v1.20",
		"go1.21rc2":          "v1.21.0-rc.2",
		"go1.18beta1":        "v1.18.0-beta.1",
		"devel go1.23-abcd":  "",
		"":                   "",
		"gox":                "",
	} {
		got, ok := StdlibVersion(in)
		if got != want || ok != (want != "") {
			t.Errorf("StdlibVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func FuzzBuildinfo(f *testing.F) {
	f.Add([]byte("\x7fELF"))
	f.Add(append([]byte("\x7fELF\x02\x01\x01"), buildInfoMagic...))
	f.Add(append([]byte("MZ\x90\x00"), buildInfoMagic...))
	f.Add(append([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"), buildInfoMagic...))
	f.Add(append([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x01"), buildInfoMagic...))
	f.Add(syntheticELF("go1.22.1", replacedInfo.String()+"\n", 0))
	f.Add(syntheticELF("go1.21rc2", "path\tx\nmod\tx\t(devel)\t\n", 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := scannertest.Consistent(t, &Scanner{}, "usr/bin/fuzz", b)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Packages {
			if p.Path != "usr/bin/fuzz" {
				t.Errorf("package %+v", p)
			}
		}
	})
}
