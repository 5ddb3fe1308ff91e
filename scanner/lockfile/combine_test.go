package lockfile

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
)

func devCount(r *scanner.Result) (all, dev int) {
	for _, p := range r.Packages {
		all++
		if p.Dev {
			dev++
		}
	}
	return all, dev
}

// TestDevDependenciesMarked checks the Dev mark on real lock files against
// counts made independently with Python's json and tomllib (a package listed
// both as a production and a development dependency is a production one).
func TestDevDependenciesMarked(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/lockfiles")
	for _, c := range []struct {
		file, path string
		all, dev   int
	}{
		{"npm/araidata-security-tracker-package-lock.json", "package-lock.json", 510, 379},
		{"python/trivy-ci-test-Pipfile.lock", "Pipfile.lock", 85, 31},
		{"python/osv.dev-poetry.lock", "poetry.lock", 63, 17},
	} {
		r := scanFile(t, filepath.Join(d, c.file), c.path)
		if all, dev := devCount(r); all != c.all || dev != c.dev {
			t.Errorf("%s: %d packages, %d dev; want %d, %d", c.file, all, dev, c.all, c.dev)
		}
	}
}

// TestGoSumBeforeGo117 reads claircore's real go.mod and go.sum. As they are
// (go 1.25), go.mod lists the whole build and go.sum adds nothing; with the
// go line rewritten to 1.16 (a module from before Go 1.17, whose go.mod
// lists direct requirements only), go.sum's modules that go.mod lacks are
// added, each at its highest version.
func TestGoSumBeforeGo117(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/lockfiles/go")
	mod, err := os.ReadFile(filepath.Join(d, "claircore-go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum := scanFile(t, filepath.Join(d, "claircore-go.sum"), "src/go.sum")
	modern := scannertest.MustScan(t, &Scanner{}, "src/go.mod", mod)
	s := &Scanner{}
	got := s.Combine(map[string]*scanner.Result{"src/go.mod": modern, "src/go.sum": sum})
	if len(got.Packages) != len(modern.Packages) {
		t.Errorf("go 1.25: %d packages, want go.mod's %d", len(got.Packages), len(modern.Packages))
	}

	old := regexp.MustCompile(`(?m)^go [0-9.]+$`).ReplaceAll(mod, []byte("go 1.16"))
	legacy := scannertest.MustScan(t, &Scanner{}, "src/go.mod", old)
	got = s.Combine(map[string]*scanner.Result{"src/go.mod": legacy, "src/go.sum": sum})
	inMod := map[string]bool{}
	for _, p := range legacy.Packages {
		inMod[p.Name] = true
	}
	extra := map[string]string{}
	for _, p := range got.Packages {
		if !inMod[p.Name] {
			if prev, dup := extra[p.Name]; dup {
				t.Errorf("%s listed twice (%s, %s)", p.Name, prev, p.Version)
			}
			extra[p.Name] = p.Version
			if p.Path != "src/go.sum" {
				t.Errorf("%s: path %q", p.Name, p.Path)
			}
		}
	}
	if len(extra) == 0 {
		t.Fatal("go 1.16: go.sum added no module")
	}
	// Every module go.sum adds is one whose code go.sum vouches for.
	for name, v := range extra {
		if !strings.Contains(string(scannertest.ReadFile(t, filepath.Join(d, "claircore-go.sum"))), name+" "+v+" h1:") {
			t.Errorf("%s %s is not a module line of go.sum", name, v)
		}
	}
}

func TestRequirementsIncludes(t *testing.T) {
	in := map[string]*scanner.Result{
		"app/requirements.txt":             scannertest.MustScan(t, &Scanner{}, "app/requirements.txt", []byte("-r requirements/base.txt\n-r missing.txt\n-c requirements/constraints.txt\nflask==2.0.0\n")),
		"app/requirements/base.txt":        scannertest.MustScan(t, &Scanner{}, "app/requirements/base.txt", []byte("requests==2.31.0\n")),
		"app/requirements/constraints.txt": scannertest.MustScan(t, &Scanner{}, "app/requirements/constraints.txt", []byte("urllib3==1.26.0\n")),
	}
	got := (&Scanner{}).Combine(in)
	if ids := ids(got.Packages); strings.Join(ids, " ") != "flask@2.0.0 requests@2.31.0" {
		t.Errorf("packages %q: the include's pins count, the constraint's do not", ids)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "app/requirements.txt: -r missing.txt: not found") {
		t.Errorf("warnings %q", got.Warnings)
	}
}
