package npm

import (
	"testing"

	"github.com/openclair/clair/version"
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
			want := version.Sign(i - j)
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestEqual(t *testing.T) {
	for _, p := range [][2]string{
		{"1.0.0", "1.0.0+build.5"},
		{"v1.0.0", "1.0.0"},
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
			t.Errorf("Cmp(%s, %s) = %d, want 0", p[0], p[1], c)
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []string{"", "abc", "1.0.0-", "1.0.0+", "x.y.z"} {
		if _, err := (Scheme{}).Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}

func TestRegistered(t *testing.T) {
	if _, ok := version.Lookup(Name); !ok {
		t.Fatal("npm not registered")
	}
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
