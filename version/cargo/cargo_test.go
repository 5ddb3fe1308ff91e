package cargo

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/openclair/clair/feed/osv"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

func testOrder(t *testing.T, ordered []string) {
	t.Helper()
	for i := range ordered {
		for j := range ordered {
			a, err := Parse(ordered[i])
			if err != nil {
				t.Fatal(err)
			}
			b, err := Parse(ordered[j])
			if err != nil {
				t.Fatal(err)
			}
			if got, want := a.Compare(b), version.Sign(i-j); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func testEqual(t *testing.T, pairs [][2]string) {
	t.Helper()
	for _, p := range pairs {
		a, err := Parse(p[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(p[1])
		if err != nil {
			t.Fatal(err)
		}
		if c := a.Cmp(b); c != 0 {
			t.Errorf("Cmp(%q, %q) = %d, want 0", p[0], p[1], c)
		}
	}
}

func testInvalid(t *testing.T, bad []string) {
	t.Helper()
	for _, s := range bad {
		if _, err := (Scheme{}).Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}

func TestRegistered(t *testing.T) {
	if _, ok := version.Lookup(Name); !ok {
		t.Fatalf("%s not registered", Name)
	}
}

func TestOrder(t *testing.T) {
	testOrder(t, []string{
		"0.0.0-0", // RUSTSEC's "every version" bound
		"0",       // GHSA's shorthand for 0.0.0
		"0.1.0",
		"0.2.37-0",
		"0.6.3",
		"0.6.9",
		"0.6.10",
		"0.6.13",
		"0.16", // 0.16.0
		"0.16.1",
		"0.35.0-rc1",
		"0.35",
		// The SemVer 2.0.0 spec's own example, §11.
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-alpha.beta",
		"1.0.0-beta",
		"1.0.0-beta.2",
		"1.0.0-beta.11",
		"1.0.0-rc.1",
		"1.0.0",
		"1.9.0",
		"2.1.0",
		"18446744073709551616.0.0", // past uint64, as the semver crate refuses but the spec allows
	})
}

func TestEqual(t *testing.T) {
	testEqual(t, [][2]string{
		{"1.0.0", "1.0.0+build.5"},
		{"1.0.0+a", "1.0.0+b"},
		{"0.16", "0.16.0"},
		{"1", "1.0.0"},
		{"1.0.0-alpha+001", "1.0.0-alpha"},
	})
}

func TestInvalid(t *testing.T) {
	testInvalid(t, []string{"", "v1.0.0", "1.0.0-", "1.0.0+", "01.0.0", "1.0.0-01", "1.2.3.4", "1.2-pre", "x.y.z", " 1.0.0", "=1.0.0"})
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{"0.16": "0.16.0", "1.2.3-rc.1+x": "1.2.3-rc.1", "1": "1.0.0"} {
		v, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Canonical(); got != want {
			t.Errorf("Canonical(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestOSV reads the real crates.io export of osv.dev: every version bound
// parses (GHSA's "0.16" shorthand included), and the crates of trivy's
// trivy-ci-test Cargo.lock known to be vulnerable are in range: ammonia
// 1.9.0 (CVE-2019-15542, fixed in 2.1.0) and smallvec 0.6.9
// (CVE-2019-15551: 0.6.5 to 0.6.10; CVE-2018-25023: before 0.6.13).
func TestOSV(t *testing.T) {
	advs := osvAdvisories(t, "crates.io", "cargo")
	if bad := checkAllBounds(t, Scheme{}, advs); bad != 0 {
		t.Errorf("%d version bounds of the export do not parse", bad)
	}
	for _, c := range []struct {
		pkg, name, version string
		want               bool
	}{
		{"ammonia", "CVE-2019-15542", "1.9.0", true},
		{"ammonia", "CVE-2019-15542", "2.1.0", false},
		{"ammonia", "CVE-2019-15542", "2.1.0-rc.1", true},
		{"smallvec", "CVE-2019-15551", "0.6.9", true},
		{"smallvec", "CVE-2019-15551", "0.6.4", false},
		{"smallvec", "CVE-2019-15551", "0.6.10", false},
		{"smallvec", "CVE-2018-25023", "0.6.9", true},
		{"smallvec", "CVE-2018-25023", "0.6.13", false},
		{"smallvec", "CVE-2018-25023", "1.0.0", false},
	} {
		a := findAdvisory(t, advs, c.pkg, c.name)
		if got := affected(t, a, c.version); got != c.want {
			t.Errorf("%s %s under %s: %v, want %v", c.pkg, c.version, c.name, got, c.want)
		}
	}
}

// osvData is osv.dev's export, where the machine has it.
const osvData = "/work/shared/testdata/feeds/osv"

// osvAdvisories parses the real osv.dev export of one ecosystem with the
// feed's own Parse and returns the advisories of namespace ns.
func osvAdvisories(t *testing.T, eco, ns string) []*vuln.Advisory {
	t.Helper()
	p := filepath.Join(osvData, eco+".zip")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent: the real osv.dev export is not staged on this machine", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []*vuln.Advisory
	err = osv.New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		if a.Namespace == ns {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// affected applies vuln.Advisory's documented range semantics with the
// scheme registered under the advisory's VersionFormat.
func affected(t *testing.T, a *vuln.Advisory, installed string) bool {
	t.Helper()
	s, ok := version.Lookup(a.VersionFormat)
	if !ok {
		t.Fatalf("%s: no scheme %q", a.Name, a.VersionFormat)
	}
	v, err := s.Parse(installed)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(a.Versions, installed) {
		return true
	}
	parse := func(b string) version.Version {
		pv, err := s.Parse(b)
		if err != nil {
			t.Fatalf("%s: bound %q: %v", a.Name, b, err)
		}
		return pv
	}
	for _, r := range a.Ranges {
		if r.Introduced != "" && v.Compare(parse(r.Introduced)) < 0 {
			continue
		}
		switch {
		case r.Fixed != "" && v.Compare(parse(r.Fixed)) >= 0:
		case r.LastAffected != "" && v.Compare(parse(r.LastAffected)) > 0:
		default:
			return true
		}
	}
	return false
}

// checkAllBounds parses every range bound and listed version of the
// advisories; it returns how many did not parse, after logging a few.
func checkAllBounds(t *testing.T, s version.Scheme, advs []*vuln.Advisory) int {
	t.Helper()
	bad := 0
	try := func(a *vuln.Advisory, v string) {
		if v == "" {
			return
		}
		if _, err := s.Parse(v); err != nil {
			if bad < 10 {
				t.Logf("%s %s: %v", a.Package, a.Name, err)
			}
			bad++
		}
	}
	for _, a := range advs {
		for _, r := range a.Ranges {
			try(a, r.Introduced)
			try(a, r.Fixed)
			try(a, r.LastAffected)
		}
		for _, v := range a.Versions {
			try(a, v)
		}
	}
	return bad
}

// findAdvisory returns the advisory of the package with that name.
func findAdvisory(t *testing.T, advs []*vuln.Advisory, pkg, name string) *vuln.Advisory {
	t.Helper()
	for _, a := range advs {
		if a.Package == pkg && a.Name == name {
			return a
		}
	}
	t.Fatalf("no advisory %s for %s in the export", name, pkg)
	return nil
}
