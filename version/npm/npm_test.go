package npm

import (
	"testing"

	"github.com/openclair/clair/version/versiontest"
)

// ordered is strictly increasing (the SemVer 2.0.0 spec's example and more).
var ordered = []string{
	"0.0.1",
	"1.0.0-alpha",
	"1.0.0-alpha.1",
	"1.0.0-alpha.beta",
	"1.0.0-beta",
	"1.0.0-beta.2",
	"1.0.0-beta.11",
	"1.0.0-rc.1",
	"1.0.0",
	"1.0.1",
	"1.2.0",
	"1.10.0",
	"4.17.20",
	"4.17.21",
	"10.0.0-0",
	"10.0.0",
}

func TestOrder(t *testing.T) {
	versiontest.Ordered(t, Scheme{}, ordered...)
}

func TestEqual(t *testing.T) {
	versiontest.Equal(t, Scheme{}, [][2]string{
		{"1.0.0", "1.0.0+build.5"},
		{"v1.0.0", "1.0.0"},
	}...)
}

func TestInvalid(t *testing.T) {
	versiontest.Invalid(t, Scheme{}, []string{"", "abc", "1.0.0-", "1.0.0+", "x.y.z"}...)
}

func TestRegistered(t *testing.T) {
	versiontest.Registered(t, Scheme{})
}

func BenchmarkCompare(b *testing.B) {
	x, _ := Parse("4.17.20")
	y, _ := Parse("4.17.21-beta.1")
	b.ReportAllocs()
	for b.Loop() {
		x.Compare(y)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Parse("1.0.0-beta.11")
	}
}
