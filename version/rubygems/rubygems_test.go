package rubygems

import (
	"testing"

	"github.com/openclair/clair/version/versiontest"

	"github.com/openclair/clair/internal/osvtest"
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
	versiontest.Ordered(t, Scheme{}, ordered...)
}

func TestEqual(t *testing.T) {
	versiontest.Equal(t, Scheme{}, [][2]string{
		{"1.0", "1.0.0"},
		{"1", "1.0.0.0"},
		{"", "0"},
		{" 1.2 ", "1.2"},
		{"0.beta.1", "0.0.beta.1"},
		{"1.a", "1.0.a"},
		{"1.0.0-rc1", "1.0.0.pre.rc1"},
		{"2.0.0.rc.1", "2.0.0.rc1"},
	}...)
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
	versiontest.Invalid(t, Scheme{}, []string{"junk", "1.0\n2.0", "1..2", "1.2 3.4", "v1.0", "1.0-", "-1", "1.0.0+build"}...)
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
	versiontest.Registered(t, Scheme{})
}

// TestOSV reads the real RubyGems export of osv.dev: every version bound
// parses, and rack 2.2.3 (the version of many Ruby 2.x images) falls under
// CVE-2023-27539 (GHSA-c6qg-cjj8-47qp: >= 2.0.0, < 2.2.6.4; >= 3.0.0,
// < 3.0.6.1) while its fixes do not.
func TestOSV(t *testing.T) {
	advs := osvtest.Advisories(t, "RubyGems", "rubygems")
	if bad := osvtest.CheckAllBounds(t, Scheme{}, advs); bad != 0 {
		t.Errorf("%d version bounds of the export do not parse", bad)
	}
	a := osvtest.Find(t, advs, "rack", "CVE-2023-27539")
	for v, want := range map[string]bool{
		"2.2.3": true, "2.0.0": true, "2.2.6.3": true, "3.0.6": true,
		"2.2.6.4": false, "3.0.6.1": false, "1.6.13": false, "3.1.0": false,
	} {
		if got := osvtest.Affected(t, a, v); got != want {
			t.Errorf("rack %s under %s: %v, want %v", v, a.Name, got, want)
		}
	}
	if a.FixedIn != "2.2.6.4" {
		t.Errorf("FixedIn = %q, want the lower fix 2.2.6.4", a.FixedIn)
	}
}
