package python

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/vuln"
)

// walk scans every file under root that the scanner wants, with paths
// relative to root.
func walk(t *testing.T, root string) ([]*vuln.Package, []string) {
	t.Helper()
	s := &Scanner{}
	var pkgs []*vuln.Package
	var warns []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !s.Wants(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r := scannertest.MustScan(t, &Scanner{}, rel, b)
		pkgs = append(pkgs, r.Packages...)
		warns = append(warns, r.Warnings...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs, warns
}

func names(pkgs []*vuln.Package) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, p.Name+"@"+p.Version)
	}
	sort.Strings(out)
	return out
}

func TestLangflowRootfs(t *testing.T) {
	root := sharedtest.Path(t, "pkgdb/rootfs/debian-12-python3.12-slim-langflow")
	pkgs, warns := walk(t, root)
	if len(warns) > 0 {
		t.Errorf("warnings %q", warns)
	}
	want := []string{"pip@24.0", "setuptools@69.5.1", "wheel@0.43.0"}
	if got := names(pkgs); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, p := range pkgs {
		if p.Name != "pip" {
			continue
		}
		const path = "usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA"
		w := &vuln.Package{Name: "pip", Version: "24.0", Kind: "binary", Ecosystem: "pypi", Purl: "pkg:pypi/pip@24.0", Path: path, PackageDB: path}
		if !reflect.DeepEqual(p, w) {
			t.Errorf("got %+v\nwant %+v", p, w)
		}
	}
}

func TestTestdata(t *testing.T) {
	pkgs, warns := walk(t, "testdata")
	if len(warns) > 0 {
		t.Errorf("warnings %q", warns)
	}
	want := []string{"pip@24.0", "setuptools@69.5.1", "wheel@0.43.0"}
	if got := names(pkgs); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHeader(t *testing.T) {
	for _, c := range []struct {
		name, in  string
		pkg, purl string // "" for a warning
	}{
		{"dist-info", "Metadata-Version: 2.1\nName: Flask\nVersion: 3.0.2\nSummary: x\n", "Flask@3.0.2", "pkg:pypi/flask@3.0.2"},
		{"crlf", "Metadata-Version: 2.1\r\nName: typing_extensions\r\nVersion: 4.9.0\r\n\r\nName: other\r\n", "typing_extensions@4.9.0", "pkg:pypi/typing-extensions@4.9.0"},
		{"body ignored", "Metadata-Version: 2.1\nName: a\n\nVersion: 1.0\n", "", ""},
		{"continuation", "Metadata-Version: 1.1\nName: zope.interface\nDescription: first\n        Version: 9\nVersion: 5.4.0\n", "zope.interface@5.4.0", "pkg:pypi/zope.interface@5.4.0"},
		{"first wins", "Name: a\nName: b\nVersion: 1\nVersion: 2\n", "a@1", "pkg:pypi/a@1"},
		{"no version", "Metadata-Version: 2.1\nName: a\n", "", ""},
		{"no name", "Metadata-Version: 2.1\nVersion: 1\n", "", ""},
		{"empty", "", "", ""},
		{"no newline", "Name: a\nVersion: 1.0", "a@1.0", "pkg:pypi/a@1.0"},
		{"spaces", "Name:   requests  \nVersion:\t2.31.0\n", "requests@2.31.0", "pkg:pypi/requests@2.31.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			const p = "usr/lib/python3/dist-packages/x.dist-info/METADATA"
			r := scannertest.MustScan(t, &Scanner{}, p, []byte(c.in))
			if c.pkg == "" {
				if len(r.Packages) != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], p) {
					t.Errorf("got %+v", r)
				}
				return
			}
			if len(r.Warnings) != 0 || len(r.Packages) != 1 {
				t.Fatalf("got %+v", r)
			}
			pk := r.Packages[0]
			if got := pk.Name + "@" + pk.Version; got != c.pkg || pk.Purl != c.purl {
				t.Errorf("got %s %s, want %s %s", got, pk.Purl, c.pkg, c.purl)
			}
		})
	}
}

func TestBounded(t *testing.T) {
	// A header that never ends: the read stops at MaxHeader.
	in := "Name: a\nVersion: 1\n" + strings.Repeat("Classifier: x\n", MaxHeader/8)
	cr := &countReader{r: strings.NewReader(in)}
	r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: "x.egg-info", Size: int64(len(in)), R: cr})
	if err != nil || len(r.Packages) != 1 {
		t.Fatalf("%+v, %v", r, err)
	}
	if cr.n > MaxHeader {
		t.Errorf("read %d bytes", cr.n)
	}
	// One enormous line is skipped over.
	in = "Name: a\nDescription: " + strings.Repeat("x", 300<<10) + "\nVersion: 2\n"
	r = scannertest.MustScan(t, &Scanner{}, "x.egg-info", []byte(in))
	if len(r.Packages) != 1 || r.Packages[0].Version != "2" {
		t.Errorf("%+v", r)
	}
	// Read errors name the file.
	_, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: "a.egg-info/PKG-INFO", R: iotest.ErrReader(os.ErrClosed)})
	if err == nil || !strings.Contains(err.Error(), "a.egg-info/PKG-INFO") {
		t.Errorf("err %v", err)
	}
}

type countReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

func TestWants(t *testing.T) {
	s := &Scanner{}
	scannertest.Wants(t, s, map[string]bool{
		"usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA":     true,
		"usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO":             true,
		"usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info":                true,
		"usr/lib/python2.7/dist-packages/foo.egg-info":                           true,
		"usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/RECORD":       false,
		"usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA.bak": false,
		"usr/local/lib/python3.12/site-packages/.dist-info/METADATA":             false,
		"usr/local/lib/python3.12/site-packages/foo.egg-info/SOURCES.txt":        false,
		"src/PKG-INFO":      false,
		"METADATA":          false,
		".egg-info":         false,
		"usr/bin/python3":   false,
		"a/b.dist-info":     false,
		"a/b.dist-infoMETA": false,
	})
}

func FuzzMetadata(f *testing.F) {
	for _, d := range []string{"pip-24.0.dist-info", "wheel-0.43.0.dist-info"} {
		b, err := os.ReadFile(filepath.Join("testdata", "site-packages", d, "METADATA"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Name: a\r\nVersion: 1\r\n\r\n"))
	f.Add([]byte("Name:\nVersion:\n  x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		const p = "x.dist-info/METADATA"
		r, err := scannertest.Consistent(t, &Scanner{}, p, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Packages)+len(r.Warnings) != 1 {
			t.Fatalf("%+v", r)
		}
		for _, pk := range r.Packages {
			if strings.ContainsAny(pk.Name+pk.Version, "\r\n") {
				t.Errorf("package %+v", pk)
			}
		}
	})
}
