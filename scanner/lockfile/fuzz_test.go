package lockfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzParser fuzzes one format's parser directly, without the recover of
// Scan, so that a panic fails the fuzz run. Seeds are the test data of the
// format and the inline cases given.
func fuzzParser(f *testing.F, base string, seedFiles []string, seeds ...string) {
	fm := formats[base]
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, p := range seedFiles {
		if b, err := os.ReadFile(p); err == nil && len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := "dir/" + base
		c := newCollector(p, fm)
		err := fm.parse(b, c)
		r := c.result()
		if err != nil && len(r.Packages) > 0 && base != "yarn.lock" {
			// Only yarn v1's line reader fails after it found packages.
			t.Errorf("error %v with %d packages", err, len(r.Packages))
		}
		seen := map[[2]string]bool{}
		for _, pk := range r.Packages {
			if !validField(pk.Name, maxName) || !validField(pk.Version, maxVersion) ||
				pk.Ecosystem != fm.ecosystem || pk.Path != p || pk.Purl == "" {
				t.Errorf("package %+v", pk)
			}
			k := [2]string{pk.Name, pk.Version}
			if seen[k] {
				t.Errorf("duplicate %v", k)
			}
			seen[k] = true
		}
		for _, w := range r.Warnings {
			if !strings.HasPrefix(w, "lockfile: "+p+": ") {
				t.Errorf("warning without the path: %q", w)
			}
		}
	})
}

func td(p ...string) string { return filepath.Join(append([]string{"testdata"}, p...)...) }

func FuzzGoMod(f *testing.F) {
	fuzzParser(f, "go.mod", nil,
		"module m\n\ngo 1.22\n\nrequire (\n\ta.example/b v1.0.0\n\tc.example/d v0.1.0 // indirect\n)\n\nreplace a.example/b => ../b\nreplace c.example/d v0.1.0 => e.example/f v0.2.0\n",
		"module m\nrequire x v1\n", "require (\n", "module \"m\"\nreplace a => b v1.0.0\nrequire a v1.2.3\n")
}

func FuzzPackageLock(f *testing.F) {
	fuzzParser(f, "package-lock.json",
		[]string{td("formats", "npm-v2-workspaces", "package-lock.json"), td("trivy-vuln-image", "package-lock.json")},
		`{"lockfileVersion":1,"dependencies":{"a":{"version":"npm:b@1.0.0","dependencies":{"c":{"version":"2.0.0"}}}}}`,
		`{"lockfileVersion":3,"packages":{"":{},"node_modules/a":{"version":"1.0.0"},"x/node_modules/@s/b":{"name":"@s/c","version":"1"},"w":{"link":true}}}`)
}

func FuzzYarn(f *testing.F) {
	fuzzParser(f, "yarn.lock",
		[]string{td("formats", "yarn-v1", "yarn.lock"), td("formats", "yarn-berry", "yarn.lock")},
		"# yarn lockfile v1\n\n\"a@^1\", a@~1.0:\n  version \"1.0.1\"\n\nb@npm:c@2:\n  version 2.0.0\n",
		"__metadata:\n  version: 6\n\"a@npm:^1\":\n  version: 1.0.0\n  resolution: \"a@npm:1.0.0\"\n")
}

func FuzzPnpm(f *testing.F) {
	fuzzParser(f, "pnpm-lock.yaml",
		[]string{td("formats", "pnpm-v5", "pnpm-lock.yaml"), td("formats", "pnpm-v6", "pnpm-lock.yaml")},
		"lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\n  '@s/b@2.0.0':\n    resolution: {integrity: x}\n  c@https://x/c.tgz:\n    version: 3.0.0\n",
		"lockfileVersion: 5.3\npackages:\n  /a/1.0.0_b@2.0.0:\n    dev: false\n  registry.example.com/@s/c/3.0.0:\n    dev: true\n")
}

func FuzzPoetry(f *testing.F) {
	fuzzParser(f, "poetry.lock", nil,
		"[[package]]\nname = \"a\"\nversion = \"1.0\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0\"\n[package.source]\ntype = \"directory\"\n")
}

func FuzzUV(f *testing.F) {
	fuzzParser(f, "uv.lock", nil,
		"version = 1\n[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n[[package]]\nname = \"b\"\nversion = \"0.1\"\nsource = { editable = \".\" }\n")
}

func FuzzPipfile(f *testing.F) {
	fuzzParser(f, "Pipfile.lock", nil,
		`{"_meta":{},"default":{"a":{"version":"==1.0"},"b":{"git":"x"}},"develop":{"c":{"version":"===2"}}}`)
}

func FuzzRequirements(f *testing.F) {
	fuzzParser(f, "requirements.txt", nil,
		"a==1.0\nb[x,y] == 2.0 ; python_version<'3'  # c\nc==3 \\\n  --hash=sha256:x\n-r other.txt\n",
		"\xff\xfea\x00=\x00=\x001\x00")
}

func FuzzCargo(f *testing.F) {
	fuzzParser(f, "Cargo.lock", nil,
		"version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\n")
}

func FuzzGemfile(f *testing.F) {
	fuzzParser(f, "Gemfile.lock", []string{td("trivy-vuln-image", "Gemfile.lock")},
		"GEM\n  remote: https://rubygems.org/\n  specs:\n    a (1.0-x86_64-linux)\n      b (~> 2)\n    b (2.1)\n\nPATH\n  remote: .\n  specs:\n    c (0.1)\n")
}

func FuzzComposer(f *testing.F) {
	fuzzParser(f, "composer.lock", []string{td("trivy-vuln-image", "composer.lock")},
		`{"packages":[{"name":"a/b","version":"v1.0.0"}],"packages-dev":[{"name":"c/d","version":"2.0","dist":{"type":"path"}}]}`)
}
