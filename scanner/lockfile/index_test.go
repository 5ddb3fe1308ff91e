package lockfile_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/lockfile"
	"github.com/openclair/clair/scanner/npm"
)

// TestIndexDir indexes a source tree as a dir: image, with the npm scanner
// beside this one: each reads its own files, and a dependency's lock file
// inside node_modules is read by neither.
func TestIndexDir(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"package-lock.json": `{
  "name": "web", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "web", "version": "1.0.0", "dependencies": {"lodash": "^4.17.20", "@babel/core": "^7.23.0"}},
    "node_modules/lodash": {"version": "4.17.20", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz"},
    "node_modules/@babel/core": {"version": "7.23.0", "resolved": "https://registry.npmjs.org/@babel/core/-/core-7.23.0.tgz", "dev": true}
  }
}`,
		"go.mod": "module example.com/svc\n\ngo 1.22\n\nrequire (\n\tgithub.com/gorilla/mux v1.8.0\n\tgolang.org/x/net v0.17.0 // indirect\n)\n",
		// What npm installed: scanner/npm's.
		"node_modules/lodash/package.json": `{"name": "lodash", "version": "4.17.20"}`,
		// A dependency's own lock file: not what is installed.
		"node_modules/lodash/package-lock.json": `{"lockfileVersion": 3, "packages": {"node_modules/left-pad": {"version": "1.3.0"}}}`,
		"node_modules/.package-lock.json":       `{"lockfileVersion": 3, "packages": {"node_modules/lodash": {"version": "4.17.20"}}}`,
		"README.md":                             "# svc\n",
	}
	for p, c := range files {
		f := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := image.Open(context.Background(), "dir:"+root, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ix := &index.Indexer{Scanners: []scanner.Scanner{&lockfile.Scanner{}, &npm.Scanner{}}}
	r, err := ix.Index(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Success || len(r.Warnings) > 0 {
		t.Errorf("success %v, warnings %q", r.Success, r.Warnings)
	}
	var got []string
	for _, p := range r.Packages {
		got = append(got, p.Ecosystem+" "+p.Name+"@"+p.Version+" "+p.Path+" "+p.Purl)
		envs := r.Environments[p.ID]
		if len(envs) != 1 || envs[0].PackageDB != p.Path {
			t.Errorf("%s: environments %+v", p.Name, envs)
		}
	}
	sort.Strings(got)
	want := []string{
		"go github.com/gorilla/mux@v1.8.0 go.mod pkg:golang/github.com/gorilla/mux@v1.8.0",
		"go golang.org/x/net@v0.17.0 go.mod pkg:golang/golang.org/x/net@v0.17.0",
		"npm @babel/core@7.23.0 package-lock.json pkg:npm/%40babel/core@7.23.0",
		"npm lodash@4.17.20 node_modules/lodash/package.json pkg:npm/lodash@4.17.20",
		"npm lodash@4.17.20 package-lock.json pkg:npm/lodash@4.17.20",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
