package lockfile

import (
	"context"
	"errors"
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

// scanFile scans a file of the disk as if it were at path in a layer.
func scanFile(t testing.TB, file, path string) *scanner.Result {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return scannertest.MustScan(t, &Scanner{}, path, b)
}

// ids lists packages as name@version, sorted.
func ids(pkgs []*vuln.Package) []string {
	out := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, p.Name+"@"+p.Version)
	}
	sort.Strings(out)
	return out
}

// readList reads a name@version list, one a line.
func readList(t testing.TB, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Fields(string(b))
	sort.Strings(out)
	return out
}

// diff returns what is in a and not in b.
func diff(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

// checkPackages checks the fields every package must have.
func checkPackages(t testing.TB, path, eco string, pkgs []*vuln.Package) {
	t.Helper()
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.Ecosystem != eco || p.Kind != vuln.KindBinary ||
			p.Path != path || p.PackageDB != path || !strings.HasPrefix(p.Purl, "pkg:") {
			t.Errorf("package %+v", p)
		}
	}
}

func TestWants(t *testing.T) {
	s := &Scanner{}
	scannertest.Wants(t, s, map[string]bool{
		"go.mod":                               true,
		"src/app/go.mod":                       true,
		"package-lock.json":                    true,
		"web/yarn.lock":                        true,
		"web/pnpm-lock.yaml":                   true,
		"poetry.lock":                          true,
		"uv.lock":                              true,
		"Pipfile.lock":                         true,
		"requirements.txt":                     true,
		"crates/Cargo.lock":                    true,
		"Gemfile.lock":                         true,
		"composer.lock":                        true,
		"app/node_modules/x/package-lock.json": false,
		"node_modules/x/yarn.lock":             false,
		"node_modules/.package-lock.json":      false,
		"app/node_modules/x/package.json":      false, // scanner/npm's
		"package.json":                         false,
		"usr/local/bin/app":                    false, // scanner/gobin's
		"pyproject.toml":                       false,
		"Pipfile":                              false,
		"Gemfile":                              false,
		"requirements-dev.txt":                 true,
		"requirements/base.txt":                true,
		"docs/dev-requirements.txt":            true,
		"notes.txt":                            false,
		"go.sum":                               true,
		"Cargo.toml":                           false,
		"vendor/composer/composer.lock":        false,
		"php/vendor/x/y/composer.lock":         false,
		"root/go/pkg/mod/golang.org/x/mod@v0.1.0/go.mod":               false,
		"venv/lib/python3.12/site-packages/x/requirements.txt":         false,
		"root/.cargo/registry/src/index.crates.io-x/rg-1.0/Cargo.lock": false,
		"usr/local/bundle/gems/rails-7.1.0/Gemfile.lock":               false,
		"usr/lib/ruby/gems/3.1.0/gems/x-1.0/Gemfile.lock":              false,
		"gems/internal-gem/Gemfile.lock":                               true,
		"xnode_modules/yarn.lock":                                      true,
		".git/go.mod":                                                  false,
		"go.mod/x":                                                     false,
		"":                                                             false,
	})
}

// TestFormats reads the hand-written files of testdata/formats.
func TestFormats(t *testing.T) {
	for _, c := range []struct {
		file, eco string
		want      []string
	}{
		{"yarn-v1/yarn.lock", EcosystemNPM, []string{
			"@babel/code-frame@7.12.13", "@babel/helper-validator-identifier@7.12.11", "@babel/highlight@7.13.10",
			"ansi-styles@3.2.1", "chalk@2.4.2", "color-convert@1.9.3", "color-name@1.1.3",
			"escape-string-regexp@1.0.5", "has-flag@3.0.0", "jquery@3.2.1", "js-tokens@4.0.0",
			"lodash@4.17.21", // the lodash-es alias installs lodash
			"supports-color@5.5.0",
		}},
		{"yarn-berry/yarn.lock", EcosystemNPM, []string{
			"@types/node@20.10.5", "function-bind@1.1.2", "hasown@2.0.0", "is-core-module@2.13.1",
			"lodash@4.17.21", "path-parse@1.0.7", "resolve@1.22.8", "supports-preserve-symlinks-flag@1.0.0",
			"underscore@1.13.6", "undici-types@5.26.5",
		}},
		{"pnpm-v5/pnpm-lock.yaml", EcosystemNPM, []string{
			"@babel/core@7.21.0", "is-number@7.0.0", "jquery@3.3.9", "js-tokens@4.0.0", "lodash@4.17.4",
			"loose-envify@1.4.0", "react-dom@18.2.0", "react@18.2.0", "scheduler@0.23.0",
		}},
		{"pnpm-v6/pnpm-lock.yaml", EcosystemNPM, []string{
			"@types/prop-types@15.7.11", "@types/react@18.2.45", "@types/scheduler@0.16.8", "csstype@3.1.3",
			"jquery@3.3.9", "js-tokens@4.0.0", "lodash@4.17.4", "loose-envify@1.4.0", "react-dom@18.2.0",
			"react@18.2.0", "scheduler@0.23.0",
		}},
		{"npm-v2-workspaces/package-lock.json", EcosystemNPM, []string{
			"@types/node@20.10.5", "lodash@4.17.20", "lodash@4.17.21", "typescript@5.3.3",
			"underscore@1.13.6", "undici-types@5.26.5",
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			p := "src/" + c.file
			r := scanFile(t, filepath.Join("testdata", "formats", c.file), p)
			if len(r.Warnings) > 0 {
				t.Errorf("warnings %q", r.Warnings)
			}
			checkPackages(t, p, c.eco, r.Packages)
			if got := ids(r.Packages); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestRealLockFiles reads the real lock files staged in shared/testdata.
// The counts were checked against independent readings of the same files:
// `go mod edit -json` with the replacements applied for go.mod, and
// Python's json, tomllib and PyYAML for the others, with the rules the
// package documents (the root, workspace and local packages left out).
func TestRealLockFiles(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/lockfiles")
	for _, c := range []struct {
		file, base, eco string
		n               int
		has             []string
		hasNot          []string
	}{
		{"go/claircore-go.mod", "go.mod", EcosystemGo, 61,
			[]string{"github.com/jackc/pgx/v5@v5.10.0", "golang.org/x/mod@v0.39.0"},
			[]string{"github.com/quay/claircore/updater/driver@v1.0.0"}}, // replaced by ./updater/driver
		{"go/trivy-go.mod", "go.mod", EcosystemGo, 473, []string{"github.com/docker/docker@v28.5.2+incompatible"}, nil},
		{"npm/araidata-security-tracker-package-lock.json", "package-lock.json", EcosystemNPM, 510, []string{"next@14.2.35"}, nil},
		{"npm/nodejs-security-wg-package-lock.json", "package-lock.json", EcosystemNPM, 54, nil, nil},
		{"npm/osv.dev-frontend3-pnpm-lock.yaml", "pnpm-lock.yaml", EcosystemNPM, 416, []string{"@hotwired/turbo@8.0.23", "@material/web@2.5.0"}, nil},
		{"python/osv.dev-poetry.lock", "poetry.lock", EcosystemPyPI, 63, nil, nil},
		{"python/langflow-base-uv.lock", "uv.lock", EcosystemPyPI, 315, nil, []string{"langflow-base@0.0.96"}},
		{"python/trivy-ci-test-Pipfile.lock", "Pipfile.lock", EcosystemPyPI, 85, []string{"django@2.0.9", "pandas@0.24.2"}, nil},
		{"python/osv.dev-docker-poetry-requirements.txt", "requirements.txt", EcosystemPyPI, 44, nil, nil},
		{"rust/trivy-ci-test-Cargo.lock", "Cargo.lock", EcosystemCargo, 73, []string{"ammonia@1.9.0"}, []string{"normal@0.1.0"}},
		{"rust/ripgrep-Cargo.lock", "Cargo.lock", EcosystemCargo, 52, []string{"memchr@2.8.3"}, []string{"ripgrep@15.2.0", "grep@0.4.1"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			p := "repo/" + c.base
			r := scanFile(t, filepath.Join(d, c.file), p)
			if len(r.Warnings) > 0 {
				t.Errorf("warnings %q", r.Warnings)
			}
			checkPackages(t, p, c.eco, r.Packages)
			got := ids(r.Packages)
			if len(got) != c.n {
				t.Errorf("%d packages, want %d", len(got), c.n)
			}
			if m := diff(c.has, got); len(m) > 0 {
				t.Errorf("missing %q", m)
			}
			if x := diff(c.hasNot, diff(c.hasNot, got)); len(x) > 0 {
				t.Errorf("unexpected %q", x)
			}
		})
	}
}

// TestTrivyGoldens compares the package lists with trivy's for the same
// lock files: trivy's expected libraries of its vuln-image:1.2.3 test image,
// whose rust-app/Cargo.lock and python-app/Pipfile.lock are the
// trivy-ci-test files staged in shared/testdata, and whose other lock files
// are reconstructed in testdata/trivy-vuln-image (see its README). The only
// differences are deliberate, and listed.
func TestTrivyGoldens(t *testing.T) {
	lock := sharedtest.Path(t, "pkgdb/lockfiles")
	td := filepath.Join("testdata", "trivy-vuln-image")
	for _, c := range []struct {
		file, base string
		trivyOnly  []string // trivy has them, this scanner leaves them out
		oursOnly   int      // this scanner has that many more
	}{
		// normal is the project's own crate (no source).
		{filepath.Join(lock, "rust/trivy-ci-test-Cargo.lock"), "Cargo.lock", []string{"normal@0.1.0"}, 0},
		// trivy reads "default" only; the 31 more are "develop" packages.
		// django-postgres-extra is an editable git checkout, no version.
		{filepath.Join(lock, "python/trivy-ci-test-Pipfile.lock"), "Pipfile.lock", []string{"django-postgres-extra@"}, 31},
		{filepath.Join(td, "Gemfile.lock"), "Gemfile.lock", nil, 0},
		{filepath.Join(td, "composer.lock"), "composer.lock", nil, 0},
		{filepath.Join(td, "package-lock.json"), "package-lock.json", nil, 0},
	} {
		t.Run(c.base, func(t *testing.T) {
			r := scanFile(t, c.file, "app/"+c.base)
			if len(r.Warnings) > 0 {
				t.Errorf("warnings %q", r.Warnings)
			}
			got := ids(r.Packages)
			want := readList(t, filepath.Join(td, c.base+".trivy"))
			if c.base == "composer.lock" {
				// trivy keeps the tags' leading v; this scanner drops it.
				for i, w := range want {
					want[i] = strings.Replace(w, "@v", "@", 1)
				}
			}
			trivyOnly, oursOnly := diff(want, got), diff(got, want)
			if !reflect.DeepEqual(trivyOnly, c.trivyOnly) && (len(trivyOnly) > 0 || len(c.trivyOnly) > 0) {
				t.Errorf("trivy only: %q, want %q", trivyOnly, c.trivyOnly)
			}
			if len(oursOnly) != c.oursOnly {
				t.Errorf("ours only: %q", oursOnly)
			}
			t.Logf("%s: trivy %d, ours %d, common %d", c.base, len(want), len(got), len(want)-len(trivyOnly))
		})
	}
}

func TestGoMod(t *testing.T) {
	const gomod = `module example.com/app

go 1.22

toolchain go1.22.5

require (
	github.com/gorilla/mux v1.8.0
	golang.org/x/net v0.17.0 // indirect
	github.com/old/lib v1.0.0
	github.com/pinned/lib v1.2.0
	github.com/local/lib v0.0.0-00010101000000-000000000000
	github.com/docker/docker v24.0.7+incompatible
)

replace (
	github.com/old/lib => github.com/new/lib v1.1.0
	github.com/pinned/lib v1.1.0 => github.com/fork/lib v1.1.1
	github.com/local/lib => ../lib
	golang.org/x/net v0.17.0 => golang.org/x/net v0.23.0
	golang.org/x/net => golang.org/x/net v0.20.0
)

exclude github.com/gorilla/mux v1.7.0
`
	r := scannertest.MustScan(t, &Scanner{}, "app/go.mod", []byte(gomod))
	if len(r.Warnings) > 0 {
		t.Errorf("warnings %q", r.Warnings)
	}
	want := []string{"github.com/docker/docker@v24.0.7+incompatible", "github.com/gorilla/mux@v1.8.0",
		"github.com/new/lib@v1.1.0", "github.com/pinned/lib@v1.2.0", "golang.org/x/net@v0.23.0"}
	if got := ids(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, p := range r.Packages {
		if p.Name == "github.com/gorilla/mux" && p.Purl != "pkg:golang/github.com/gorilla/mux@v1.8.0" {
			t.Errorf("purl %s", p.Purl)
		}
	}
	// A directive this x/mod does not know: requirements still read.
	r = scannertest.MustScan(t, &Scanner{}, "go.mod", []byte("module m\n\nfuturedirective x\n\nrequire a.example/b v1.0.0\n\nreplace a.example/b => a.example/c v1.0.1\n"))
	if got := ids(r.Packages); !reflect.DeepEqual(got, []string{"a.example/b@v1.0.0"}) || len(r.Warnings) != 1 {
		t.Errorf("lax: %q %q", got, r.Warnings)
	}
}

func TestPackageLockV1(t *testing.T) {
	const pl = `{
  "name": "app", "version": "1.0.0", "lockfileVersion": 1, "requires": true,
  "dependencies": {
    "a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0", "dependencies": {"c": {"version": "3.0.0"}}}}},
    "b": {"version": "1.0.0", "dev": true},
    "str-alias": {"version": "npm:string-width@4.2.3"},
    "@scope/x": {"version": "0.1.0"},
    "from-git": {"version": "github:user/repo#0123456789abcdef", "from": "github:user/repo"},
    "local": {"version": "file:../local"},
    "bad": {"version": 12}
  }
}`
	r := scannertest.MustScan(t, &Scanner{}, "package-lock.json", []byte(pl))
	want := []string{"@scope/x@0.1.0", "a@1.0.0", "b@1.0.0", "b@2.0.0", "c@3.0.0", "string-width@4.2.3"}
	if got := ids(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "1 entries") {
		t.Errorf("warnings %q", r.Warnings)
	}
	for _, p := range r.Packages {
		if p.Name == "@scope/x" && p.Purl != "pkg:npm/%40scope/x@0.1.0" {
			t.Errorf("purl %s", p.Purl)
		}
	}
}

func TestRequirements(t *testing.T) {
	const req = "# pinned by pip-compile\n" +
		"Flask==2.0.0\n" +
		"requests[socks,security] == 2.31.0 ; python_version >= \"3.7\"  # via app\n" +
		"urllib3==2.0.7 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\n" +
		"Jinja2===3.0.0\n" +
		"-r base.txt\n" +
		"--requirement=other.txt\n" +
		"-c constraints.txt\n" +
		"-e git+https://github.com/x/y.git#egg=y\n" +
		"--index-url https://pypi.example/simple\n" +
		"Django>=4.2\n" +
		"numpy==1.26.*\n" +
		"pip @ https://example.invalid/pip-23.3.tar.gz\n" +
		"zope.interface==6.1\r\n" +
		"backports.zoneinfo==0.2.1;python_version<'3.9'\n" +
		"torch==2.1.0+cpu\n" +
		"\n   \n#==1.0\n"
	r := scannertest.MustScan(t, &Scanner{}, "requirements.txt", []byte(req))
	want := []string{"Flask@2.0.0", "Jinja2@3.0.0", "backports.zoneinfo@0.2.1", "requests@2.31.0", "torch@2.1.0+cpu", "urllib3@2.0.7", "zope.interface@6.1"}
	if got := ids(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if r.Facts["requires"] != "base.txt\nother.txt" || r.Facts["constraints"] != "constraints.txt" {
		t.Errorf("facts %q", r.Facts)
	}
	for _, p := range r.Packages {
		if p.Name == "Flask" && p.Purl != "pkg:pypi/flask@2.0.0" {
			t.Errorf("purl %s", p.Purl)
		}
	}
	// UTF-16 with a byte order mark, as Windows editors save it.
	u := []byte{0xff, 0xfe}
	for _, r := range "six==1.16.0\r\n" {
		u = append(u, byte(r), 0)
	}
	if got := ids(scannertest.MustScan(t, &Scanner{}, "requirements.txt", u).Packages); !reflect.DeepEqual(got, []string{"six@1.16.0"}) {
		t.Errorf("utf-16: %q", got)
	}
}

func TestGemfile(t *testing.T) {
	const gl = "GIT\r\n" +
		"  remote: https://github.com/rails/rails.git\r\n" +
		"  revision: 0123456789abcdef\r\n" +
		"  specs:\r\n" +
		"    rails (7.2.0.alpha)\r\n" +
		"      actioncable (= 7.2.0.alpha)\r\n" +
		"\r\n" +
		"PATH\r\n" +
		"  remote: .\r\n" +
		"  specs:\r\n" +
		"    myapp (0.1.0)\r\n" +
		"\r\n" +
		"GEM\r\n" +
		"  remote: https://rubygems.org/\r\n" +
		"  specs:\r\n" +
		"    nokogiri (1.15.4-x86_64-linux)\r\n" +
		"      racc (~> 1.4)\r\n" +
		"    nokogiri (1.15.4-arm64-darwin)\r\n" +
		"      racc (~> 1.4)\r\n" +
		"    racc (1.7.3)\r\n" +
		"    broken\r\n" +
		"\r\n" +
		"PLATFORMS\r\n" +
		"  x86_64-linux\r\n" +
		"\r\n" +
		"DEPENDENCIES\r\n" +
		"  nokogiri\r\n" +
		"  rails!\r\n" +
		"\r\n" +
		"CHECKSUMS\r\n" +
		"  racc (1.7.3) sha256=aaaa\r\n" +
		"\r\n" +
		"BUNDLED WITH\r\n" +
		"   2.5.3\r\n"
	r := scannertest.MustScan(t, &Scanner{}, "Gemfile.lock", []byte(gl))
	want := []string{"nokogiri@1.15.4", "racc@1.7.3", "rails@7.2.0.alpha"}
	if got := ids(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if len(r.Warnings) != 1 {
		t.Errorf("warnings %q", r.Warnings)
	}
	checkPackages(t, "Gemfile.lock", EcosystemRubyGems, r.Packages)
}

func TestComposer(t *testing.T) {
	const cl = `{
  "packages": [
    {"name": "monolog/monolog", "version": "v2.9.1", "dist": {"type": "zip"}},
    {"name": "acme/branch", "version": "dev-main"},
    {"name": "acme/local", "version": "dev-main", "dist": {"type": "path", "url": "../local"}},
    {"name": 7}
  ],
  "packages-dev": [
    {"name": "phpunit/phpunit", "version": "9.6.13"}
  ]
}`
	r := scannertest.MustScan(t, &Scanner{}, "composer.lock", []byte(cl))
	want := []string{"acme/branch@dev-main", "monolog/monolog@2.9.1", "phpunit/phpunit@9.6.13"}
	if got := ids(r.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, p := range r.Packages {
		if p.Name == "monolog/monolog" && p.Purl != "pkg:composer/monolog/monolog@2.9.1" {
			t.Errorf("purl %s", p.Purl)
		}
	}
}

func TestCargoAndPython(t *testing.T) {
	const cargo = `version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.193"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "25dd9975e68d0cb5aa1120c288333fc98731bd1dd12f561e468ea4728c042b89"

[[package]]
name = "forked"
version = "0.3.0"
source = "git+https://github.com/x/forked?branch=main#0123456789abcdef"
`
	if got := ids(scannertest.MustScan(t, &Scanner{}, "Cargo.lock", []byte(cargo)).Packages); !reflect.DeepEqual(got, []string{"forked@0.3.0", "serde@1.0.193"}) {
		t.Errorf("cargo: %q", got)
	}
	const uv = `version = 1
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "member"
version = "0.2.0"
source = { virtual = "packages/member" }

[[package]]
name = "Flask"
version = "3.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "from-git"
version = "1.0.0"
source = { git = "https://github.com/x/from-git?rev=abc#abc" }
`
	if got := ids(scannertest.MustScan(t, &Scanner{}, "uv.lock", []byte(uv)).Packages); !reflect.DeepEqual(got, []string{"Flask@3.0.0", "from-git@1.0.0"}) {
		t.Errorf("uv: %q", got)
	}
	const poetry = `[[package]]
name = "requests"
version = "2.31.0"
description = "Python HTTP for Humans."
optional = false
python-versions = ">=3.7"
category = "main"

[[package]]
name = "pytest"
version = "7.4.3"
category = "dev"
optional = false
python-versions = ">=3.7"

[[package]]
name = "mylib"
version = "0.1.0"
optional = false
python-versions = "*"

[package.source]
type = "directory"
url = "../mylib"

[metadata]
lock-version = "2.0"
`
	if got := ids(scannertest.MustScan(t, &Scanner{}, "poetry.lock", []byte(poetry)).Packages); !reflect.DeepEqual(got, []string{"pytest@7.4.3", "requests@2.31.0"}) {
		t.Errorf("poetry: %q", got)
	}
}

// TestGarbage: whatever a file holds, the result is a warning naming the
// file, never an error or a panic.
func TestGarbage(t *testing.T) {
	inputs := []string{
		"", "\x00\x01\x02", "<html><body>not found</body></html>", "{", "[1,2,3]", "null", `{"packages": 7}`,
		"key: [unclosed", "a: &a [*a, *a]\nb: *a\n", "[[package]]\nname = 1\n", "\xff\xfe\x00", strings.Repeat("{", 100000),
		"lockfileVersion: '9.0'\npackages:\n  '@': {}\n  '/': {}\n  '(': {}\n",
		"__metadata:\n  version: 6\n\"x@npm:1\":\n  version: [1]\n",
	}
	for base := range formats {
		for _, in := range inputs {
			p := "dir/" + base
			r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: p, Size: int64(len(in)), R: strings.NewReader(in)})
			if err != nil {
				t.Errorf("%s %q: %v", base, scanner.Clip(in), err)
				continue
			}
			for _, w := range r.Warnings {
				if !strings.HasPrefix(w, "lockfile: "+p+": ") {
					t.Errorf("%s: warning without the path: %q", base, w)
				}
			}
			checkPackages(t, p, formats[base].ecosystem, r.Packages)
		}
	}
}

func TestGarbageWarns(t *testing.T) {
	for base := range formats {
		if base == "requirements.txt" {
			continue // any text is a requirements file
		}
		r := scannertest.MustScan(t, &Scanner{}, "x/"+base, []byte("<html><body>502 Bad Gateway</body></html>\n"))
		if len(r.Warnings) == 0 || len(r.Packages) > 0 {
			t.Errorf("%s: %+v", base, r)
		}
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
	const p = "app/package-lock.json"
	r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: p, Size: MaxSize + 1, R: panicReader{t}})
	if err != nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], p) {
		t.Errorf("%+v %v", r, err)
	}
	// A size that lied: the read stops at the cap.
	big := io64(MaxSize + 10)
	r, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: p, Size: 10, R: big})
	if err != nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "more than") {
		t.Errorf("%+v %v", r, err)
	}
}

// io64 is a reader of n spaces.
func io64(n int64) *spaces { return &spaces{n: n} }

type spaces struct{ n int64 }

func (s *spaces) Read(b []byte) (int, error) {
	if s.n <= 0 {
		return 0, errors.New("EOF expected before")
	}
	if int64(len(b)) > s.n {
		b = b[:s.n]
	}
	for i := range b {
		b[i] = ' '
	}
	s.n -= int64(len(b))
	return len(b), nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: "a/go.mod", Size: 100, R: iotest.ErrReader(boom)})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "a/go.mod") {
		t.Errorf("err %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Scanner{}).Scan(ctx, scanner.File{Path: "a/go.mod", R: strings.NewReader("")}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestPurl(t *testing.T) {
	for in, want := range map[[3]string]string{
		{EcosystemGo, "golang.org/x/net", "v0.23.0"}:    "pkg:golang/golang.org/x/net@v0.23.0",
		{EcosystemNPM, "@babel/core", "7.23.0"}:         "pkg:npm/%40babel/core@7.23.0",
		{EcosystemPyPI, "Django_Rest", "1.0"}:           "pkg:pypi/django-rest@1.0",
		{EcosystemCargo, "serde", "1.0.193"}:            "pkg:cargo/serde@1.0.193",
		{EcosystemRubyGems, "rails", "7.1.0"}:           "pkg:gem/rails@7.1.0",
		{EcosystemComposer, "symfony/console", "4.2.7"}: "pkg:composer/symfony/console@4.2.7",
	} {
		if got := Purl(in[0], in[1], in[2]); got != want {
			t.Errorf("Purl(%q) = %q, want %q", in, got, want)
		}
	}
}
