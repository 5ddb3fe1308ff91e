package npm

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

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/vuln"
)

// Real-shaped package.json files, trimmed from what the registry publishes.
var tree = map[string]string{
	"app/package.json": `{"name": "my-app", "private": true, "dependencies": {"lodash": "^4.17.20"}}`,
	"app/node_modules/lodash/package.json": `{
  "name": "lodash",
  "version": "4.17.20",
  "description": "Lodash modular utilities.",
  "keywords": ["modules", "stdlib", "util"],
  "homepage": "https://lodash.com/",
  "repository": "lodash/lodash",
  "icon": "https://lodash.com/icon.svg",
  "license": "MIT",
  "main": "lodash.js",
  "author": "John-David Dalton <john.david.dalton@gmail.com>",
  "contributors": ["John-David Dalton <john.david.dalton@gmail.com>", "Mathias Bynens <mathias@qiwi.be>"],
  "scripts": {"test": "echo \"See https://travis-ci.org/lodash-archive/lodash-cli for testing details.\""}
}
`,
	"app/node_modules/@babel/core/package.json": `{
  "name": "@babel/core",
  "version": "7.23.0",
  "description": "Babel compiler core.",
  "main": "./lib/index.js",
  "author": "The Babel Team (https://babel.dev/team)",
  "license": "MIT",
  "publishConfig": {"access": "public"},
  "repository": {"type": "git", "url": "https://github.com/babel/babel.git", "directory": "packages/babel-core"},
  "engines": {"node": ">=6.9.0"},
  "funding": {"type": "opencollective", "url": "https://opencollective.com/babel"},
  "dependencies": {"@ampproject/remapping": "^2.2.0", "@babel/code-frame": "^7.22.13", "semver": "^6.3.1"},
  "type": "commonjs"
}
`,
	// A nested install: a needs another b than the top level's.
	"app/node_modules/a/package.json":                  `{"name": "a", "version": "1.0.0", "dependencies": {"b": "^2.0.0"}}`,
	"app/node_modules/a/node_modules/b/package.json":   `{"name": "b", "version": "2.1.0"}`,
	"app/node_modules/b/package.json":                  `{"name": "b", "version": "1.0.3"}`,
	"app/node_modules/a/test/fixtures/package.json":    `{"name": "fixture", "version": "0.0.0"}`,
	"app/node_modules/@babel/core/lib/package.json":    `{"type": "commonjs"}`,
	"app/node_modules/.package-lock.json":              `{"name": "my-app", "lockfileVersion": 3}`,
	"usr/local/lib/node_modules/npm/package.json":      "\ufeff" + `{"name": "npm", "version": "10.2.4", "bin": {"npm": "bin/npm-cli.js"}}`,
	"usr/local/lib/node_modules/corepack/package.json": `{"name": "corepack", "version": "0.22.0"}`,
}

func TestTree(t *testing.T) {
	root := t.TempDir()
	for p, c := range tree {
		f := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := &Scanner{}
	var got []string
	var pkgs []*vuln.Package
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !s.Wants(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r := scannertest.MustScan(t, &Scanner{}, rel, b)
		if len(r.Warnings) > 0 {
			t.Errorf("warnings %q", r.Warnings)
		}
		for _, pk := range r.Packages {
			got = append(got, pk.Name+"@"+pk.Version+" "+pk.Path)
			pkgs = append(pkgs, pk)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want := []string{
		"@babel/core@7.23.0 app/node_modules/@babel/core/package.json",
		"a@1.0.0 app/node_modules/a/package.json",
		"b@1.0.3 app/node_modules/b/package.json",
		"b@2.1.0 app/node_modules/a/node_modules/b/package.json",
		"corepack@0.22.0 usr/local/lib/node_modules/corepack/package.json",
		"lodash@4.17.20 app/node_modules/lodash/package.json",
		"npm@10.2.4 usr/local/lib/node_modules/npm/package.json",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, pk := range pkgs {
		if pk.Name != "@babel/core" {
			continue
		}
		const p = "app/node_modules/@babel/core/package.json"
		w := &vuln.Package{Name: "@babel/core", Version: "7.23.0", Kind: "binary", Ecosystem: "npm", Purl: "pkg:npm/%40babel/core@7.23.0", Path: p, PackageDB: p}
		if !reflect.DeepEqual(pk, w) {
			t.Errorf("got %+v\nwant %+v", pk, w)
		}
	}
}

func TestPurl(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"lodash", "4.17.20"}:            "pkg:npm/lodash@4.17.20",
		{"@babel/core", "7.23.0"}:        "pkg:npm/%40babel/core@7.23.0",
		{"@types/node", "1.0.0+build.1"}: "pkg:npm/%40types/node@1.0.0%2Bbuild.1",
	} {
		if got := Purl(in[0], in[1]); got != want {
			t.Errorf("Purl(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDocuments(t *testing.T) {
	const p = "node_modules/x/package.json"
	for _, c := range []struct {
		name, in string
		pkg      string // name@version, "" for none
		warn     bool
	}{
		{"ok", `{"name":"x","version":"1.2.3"}`, "x@1.2.3", false},
		{"private root", `{"name":"root","private":true}`, "", false},
		{"private no name", `{"private":true,"workspaces":["packages/*"]}`, "", false},
		{"no version", `{"name":"x"}`, "", true},
		{"garbage", `<html>not json</html>`, "", true},
		{"truncated", `{"name":"x","version":"1.`, "", true},
		{"empty", ``, "", true},
		{"array", `[1,2]`, "", true},
		{"number name", `{"name":1,"version":"1.0.0"}`, "", true},
		{"null", `null`, "", true},
		{"trailing", `{"name":"x","version":"1.0.0"} junk`, "x@1.0.0", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := scannertest.MustScan(t, &Scanner{}, p, []byte(c.in))
			var got string
			if len(r.Packages) == 1 {
				got = r.Packages[0].Name + "@" + r.Packages[0].Version
			}
			if got != c.pkg || len(r.Packages) > 1 {
				t.Errorf("packages %+v", r.Packages)
			}
			if (len(r.Warnings) > 0) != c.warn {
				t.Errorf("warnings %q", r.Warnings)
			}
			for _, w := range r.Warnings {
				if !strings.Contains(w, p) {
					t.Errorf("warning without the path: %q", w)
				}
			}
		})
	}
}

// panicReader fails the test when read: a file over the cap must be skipped
// unread.
type panicReader struct{ t *testing.T }

func (p panicReader) Read([]byte) (int, error) {
	p.t.Error("read a file over the size cap")
	return 0, nil
}

func TestTooLarge(t *testing.T) {
	const p = "node_modules/big/package.json"
	r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: p, Size: 50 << 20, R: panicReader{t}})
	if err != nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], p) {
		t.Errorf("%+v, %v", r, err)
	}
	// A size that lies: the read stops at the cap.
	big := `{"name":"big","version":"1.0.0","description":"` + strings.Repeat("x", MaxSize) + `"}`
	r, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: p, Size: 10, R: strings.NewReader(big)})
	if err != nil || len(r.Warnings) != 1 || len(r.Packages) != 0 {
		t.Errorf("%+v, %v", r, err)
	}
	// Exactly MaxSize bytes is within the bound.
	pre, post := `{"name":"big","version":"1.0.0","description":"`, `"}`
	exact := pre + strings.Repeat("x", MaxSize-len(pre)-len(post)) + post
	r, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: p, Size: MaxSize, R: strings.NewReader(exact)})
	if err != nil || len(r.Warnings) != 0 || len(r.Packages) != 1 {
		t.Errorf("exactly MaxSize: %+v, %v", r, err)
	}
	// Read errors fail and name the file.
	_, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: p, R: iotest.ErrReader(os.ErrClosed)})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("err %v", err)
	}
}

func TestWants(t *testing.T) {
	s := &Scanner{}
	scannertest.Wants(t, s, map[string]bool{
		"node_modules/lodash/package.json":                                       true,
		"app/node_modules/@babel/core/package.json":                              true,
		"app/node_modules/a/node_modules/b/package.json":                         true,
		"usr/local/lib/node_modules/npm/package.json":                            true,
		"usr/local/lib/node_modules/npm/node_modules/semver/package.json":        true,
		"app/node_modules/.pnpm/lodash@4.17.20/node_modules/lodash/package.json": true,
		"app/package.json":                              false,
		"package.json":                                  false,
		"app/node_modules/a/test/package.json":          false,
		"app/node_modules/@babel/core/lib/package.json": false,
		"app/node_modules/@babel/package.json":          false,
		"app/node_modules/.bin/package.json":            false,
		"app/node_modules/@/x/package.json":             false,
		"app/node_modules/@a/@b/package.json":           false,
		"app/my_node_modules/x/package.json":            false,
		"app/node_modules/lodash/lodash.js":             false,
		"app/node_modules/lodash/package.json.bak":      false,
		"app/node_modules/node_modules/package.json":    false,
	})
}

func FuzzPackageJSON(f *testing.F) {
	for _, p := range []string{"app/node_modules/lodash/package.json", "app/node_modules/@babel/core/package.json", "app/package.json"} {
		f.Add([]byte(tree[p]))
	}
	f.Add([]byte("\xef\xbb\xbf{\"name\":\"x\",\"version\":\"1\"}"))
	f.Add([]byte(`{"name":null,"version":[],"private":"yes"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		const p = "node_modules/x/package.json"
		r, err := scannertest.Consistent(t, &Scanner{}, p, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Packages) > 1 || (len(r.Packages) == 1 && len(r.Warnings) > 0) {
			t.Fatalf("%+v", r)
		}
		for _, pk := range r.Packages {
			if pk.Path != p {
				t.Errorf("package %+v", pk)
			}
		}
	})
}
