package rubygems

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

// ordered is strictly increasing: real gem versions (rails, rack, nokogiri)
// and the cases of RubyGems' own test_gem_version.rb.
var ordered = []string{
	"0.0.0.alpha.1",
	"0.0.beta",
	"0.0.beta.1",
	"0.9",
	"1.0.a",
	"1.0.a9",
	"1.0.a10",
	"1.0.b",
	"1.0.beta",
	"1.0.0.p",
	"1.0.0.pre",
	"1.0.0-1", // ".pre.1"
	"1.0.0.rc1",
	"1",
	"1.0.0.1",
	"1.8.2.a",
	"1.8.2.b",
	"1.8.2",
	"2.2.3",
	"2.2.3.1",
	"2.2.6.3",
	"2.2.6.4",
	"5.a",
	"5.0.0.beta1",
	"5.0.0.beta1.1",
	"5.0.0.beta2",
	"5.0.0.racecar1",
	"5.0.0.rc2",
	"5.x", // a pre-release of 5: "x" sorts after "rc"
	"5.0.0",
	"6.0.2.1",
	"7.0.0.alpha2",
	"7.0.0.rc1",
	"7.0.0",
	"10.0",
	"10.0.0.0.20231201123456789012", // past uint64
}

func TestOrder(t *testing.T) {
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

func TestEqual(t *testing.T) {
	for _, p := range [][2]string{
		{"1.0", "1.0.0"},
		{"1", "1.0.0.0"},
		{"", "0"},
		{" 1.2 ", "1.2"},
		{"0.beta.1", "0.0.beta.1"},
		{"1.a", "1.0.a"},
		{"1.0.0-rc1", "1.0.0.pre.rc1"},
		{"2.0.0.rc.1", "2.0.0.rc1"},
	} {
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

func TestSemverStyle(t *testing.T) {
	// RubyGems' test_semver: SemVer pre-releases order as they should.
	for _, p := range [][2]string{
		{"1.0.0-alpha", "1.0.0-alpha.1"},
		{"1.0.0-alpha.1", "1.0.0-beta.2"},
		{"1.0.0-beta.2", "1.0.0-beta.11"},
		{"1.0.0-beta.11", "1.0.0-rc.1"},
		{"1.0.0-rc1", "1.0.0"},
		{"1.0.0-1", "1"},
	} {
		a, _ := Parse(p[0])
		b, _ := Parse(p[1])
		if a.Cmp(b) != -1 || b.Cmp(a) != 1 {
			t.Errorf("%s < %s does not hold", p[0], p[1])
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []string{"junk", "1.0\n2.0", "1..2", "1.2 3.4", "v1.0", "1.0-", "-1", "1.0.0+build"} {
		if _, err := (Scheme{}).Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}

func TestPrerelease(t *testing.T) {
	for s, want := range map[string]bool{"1.0": false, "1.0.a": true, "1.0.0-1": true, "2.2.6.4": false} {
		v, _ := Parse(s)
		if v.Prerelease() != want {
			t.Errorf("%s: Prerelease() = %v", s, !want)
		}
	}
}

func TestRegistered(t *testing.T) {
	if _, ok := version.Lookup(Name); !ok {
		t.Fatal("rubygems not registered")
	}
}

// TestOSV reads the real RubyGems export of osv.dev: every version bound
// parses, and rack 2.2.3 (the version of many Ruby 2.x images) falls under
// CVE-2023-27539 (GHSA-c6qg-cjj8-47qp: >= 2.0.0, < 2.2.6.4; >= 3.0.0,
// < 3.0.6.1) while its fixes do not.
func TestOSV(t *testing.T) {
	advs := osvAdvisories(t, "RubyGems", "rubygems")
	if bad := checkAllBounds(t, Scheme{}, advs); bad != 0 {
		t.Errorf("%d version bounds of the export do not parse", bad)
	}
	a := findAdvisory(t, advs, "rack", "CVE-2023-27539")
	for v, want := range map[string]bool{
		"2.2.3": true, "2.0.0": true, "2.2.6.3": true, "3.0.6": true,
		"2.2.6.4": false, "3.0.6.1": false, "1.6.13": false, "3.1.0": false,
	} {
		if got := affected(t, a, v); got != want {
			t.Errorf("rack %s under %s: %v, want %v", v, a.Name, got, want)
		}
	}
	if a.FixedIn != "2.2.6.4" {
		t.Errorf("FixedIn = %q, want the lower fix 2.2.6.4", a.FixedIn)
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
