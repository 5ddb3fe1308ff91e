package cargo

import (
	"testing"

	"github.com/openclair/clair/version/versiontest"

	"github.com/openclair/clair/internal/osvtest"
)

func TestRegistered(t *testing.T) {
	versiontest.Registered(t, Scheme{})
}

func TestOrder(t *testing.T) {
	versiontest.Ordered(t, Scheme{}, []string{
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
	}...)
}

func TestEqual(t *testing.T) {
	versiontest.Equal(t, Scheme{}, [][2]string{
		{"1.0.0", "1.0.0+build.5"},
		{"1.0.0+a", "1.0.0+b"},
		{"0.16", "0.16.0"},
		{"1", "1.0.0"},
		{"1.0.0-alpha+001", "1.0.0-alpha"},
	}...)
}

func TestInvalid(t *testing.T) {
	versiontest.Invalid(t, Scheme{}, []string{"", "v1.0.0", "1.0.0-", "1.0.0+", "01.0.0", "1.0.0-01", "1.2.3.4", "1.2-pre", "x.y.z", " 1.0.0", "=1.0.0"}...)
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
	advs := osvtest.Advisories(t, "crates.io", "cargo")
	if bad := osvtest.CheckAllBounds(t, Scheme{}, advs); bad != 0 {
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
		a := osvtest.Find(t, advs, c.pkg, c.name)
		if got := osvtest.Affected(t, a, c.version); got != c.want {
			t.Errorf("%s %s under %s: %v, want %v", c.pkg, c.version, c.name, got, c.want)
		}
	}
}
