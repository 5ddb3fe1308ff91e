package nuget

import (
	"slices"
	"testing"

	"github.com/openclair/clair/version/versiontest"

	"github.com/openclair/clair/internal/osvtest"
)

func TestRegistered(t *testing.T) {
	versiontest.Registered(t, Scheme{})
}

func TestOrder(t *testing.T) {
	versiontest.Ordered(t, Scheme{}, []string{
		"0",
		"0.9.0.27621-RC",
		"0.9.0.27622-RC",
		"1.0.0--rc1", // label "-rc1": "-" sorts before letters
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-Beta", // labels compare ignoring case
		"1.0.0-beta.2",
		"1.0.0-beta.11", // numeric labels compare as numbers
		"1.0.0-beta.x",  // and before alphanumeric ones
		"1.0.0-beta1",
		"1.0.0-beta11", // one label: compared as a string
		"1.0.0-beta2",
		"1.0.0-rc1",
		"1.0.0-rc1-final",
		"1.0.0",
		"1.0.0.1",
		"1.0.1",
		"9.0.1",
		"12.0.3",
		"13.0.1",
		"17.2.0-release-20220408-11",
		"17.2.0",
		"2147483648.0.0", // past Int32, where NuGet would refuse it
	}...)
}

func TestEqual(t *testing.T) {
	versiontest.Equal(t, Scheme{}, [][2]string{
		{"1.0", "1.0.0"},
		{"1.0", "1.0.0.0"},
		{"1", "1.0.0.0"},
		{"1.01", "1.1"},
		{"1.0.0-RC1", "1.0.0-rc1"},
		{"1.0.0-beta.01", "1.0.0-beta.1"}, // Int32.TryParse("01") is 1
		{"1.0.0+abc", "1.0.0"},
		{"1.0.0-rc.1+abc", "1.0.0-rc.1"},
	}...)
}

func TestInvalid(t *testing.T) {
	versiontest.Invalid(t, Scheme{}, []string{"", "v1.0.0", "1.0.0.0.0", "1..0", "1.0.0-", "1.0.0-a..b", "1.0.0+", "1.0.0-ä", " 1.0", "1.0 ", "a.b"}...)
}

// TestOSV reads the real NuGet export of osv.dev: every version bound
// parses, and Newtonsoft.Json 9.0.1 (trivy's dotnet golden reports
// GHSA-5crp-9r3c-p9vr for it) is under the advisory, fixed in 13.0.1.
func TestOSV(t *testing.T) {
	advs := osvtest.Advisories(t, "NuGet", "nuget")
	if bad := osvtest.CheckAllBounds(t, Scheme{}, advs); bad != 0 {
		t.Errorf("%d version bounds of the export do not parse", bad)
	}
	a := osvtest.Find(t, advs, "Newtonsoft.Json", "CVE-2024-21907")
	if !slices.Contains(a.Aliases, "GHSA-5crp-9r3c-p9vr") {
		t.Errorf("aliases %v lack GHSA-5crp-9r3c-p9vr", a.Aliases)
	}
	for v, want := range map[string]bool{
		"9.0.1": true, "12.0.3": true, "13.0.1-beta1": true,
		"13.0.1": false, "13.0.3": false,
	} {
		if got := osvtest.Affected(t, a, v); got != want {
			t.Errorf("Newtonsoft.Json %s under %s: %v, want %v", v, a.Name, got, want)
		}
	}
	if a.FixedIn != "13.0.1" {
		t.Errorf("FixedIn = %q", a.FixedIn)
	}
}
