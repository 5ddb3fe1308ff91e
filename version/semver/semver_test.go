package semver

import (
	"testing"

	"github.com/openclair/clair/version/versiontest"
)

// ordered is strictly increasing.
var ordered = []string{
	"v0.0.0-20190101000000-abcdefabcdef", // pseudo-version before any release
	"v0.0.0-20210101000000-abcdefabcdef",
	"v0.0.1",
	"v0.1.0-alpha",
	"v0.1.0-alpha.1",
	"v0.1.0-alpha.beta",
	"v0.1.0-beta.2",
	"v0.1.0-beta.11",
	"v0.1.0-rc.1",
	"v0.1.0",
	"v0.1.1-0.20220101000000-abcdefabcdef", // pseudo-version after v0.1.0
	"v0.1.1",
	"v1.2.3",
	"v1.2.4-pre.0.20230101000000-abcdefabcdef", // pseudo-version after a prerelease base
	"v1.2.10",
	"v1.10.0",
	"v2.0.0+incompatible",
	"v2.1.0+incompatible",
	"v10.0.0",
}

func TestOrder(t *testing.T) {
	versiontest.Ordered(t, Scheme{}, ordered...)
}

func TestEqual(t *testing.T) {
	versiontest.Equal(t, Scheme{}, [][2]string{
		{"v1.0.0", "v1.0.0+meta"},
		{"v2.0.0", "v2.0.0+incompatible"},
		{"v1", "v1.0.0"},
		{"v1.2", "v1.2.0"},
	}...)
}

func TestInvalid(t *testing.T) {
	versiontest.Invalid(t, Scheme{}, []string{"", "1.2.3", "v", "v1.2.3.4", "v01.2.3", "vx", "v1.2.3-", "latest", " v1.0.0"}...)
}

func TestRegistered(t *testing.T) {
	versiontest.Registered(t, Scheme{})
}

func BenchmarkCompare(b *testing.B) {
	x, _ := Parse("v0.0.0-20210101000000-abcdefabcdef")
	y, _ := Parse("v0.1.1-0.20220101000000-abcdefabcdef")
	b.ReportAllocs()
	for b.Loop() {
		x.Compare(y)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Parse("v1.2.4-pre.0.20230101000000-abcdefabcdef")
	}
}
