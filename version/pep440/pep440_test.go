package pep440

import (
	pep440 "github.com/aquasecurity/go-pep440-version"
	"github.com/openclair/clair/version/versiontest"

	"testing"

	"github.com/openclair/clair/version"
)

// ordered is strictly increasing (PEP 440's own example ordering and more).
var ordered = []string{
	"0.9",
	"1.0.dev0",
	"1.0.dev1",
	"1.0a1.dev1",
	"1.0a1",
	"1.0a1.post1.dev1",
	"1.0a1.post1",
	"1.0a2",
	"1.0b1",
	"1.0rc1",
	"1.0",
	"1.0+local.1",
	"1.0+local.2",
	"1.0+local-3",
	"1.0+local_3.1",
	"1.0+1",
	"1.0.post1.dev1",
	"1.0.post1",
	"1.0.post2",
	"1.0.1",
	"1.1.dev1",
	"1.1",
	"1.10",
	"2.0",
	"2.31.0",
	"1!0.1",
}

func TestOrder(t *testing.T) {
	versiontest.Ordered(t, Scheme{}, ordered...)
}

func TestEqual(t *testing.T) {
	versiontest.Equal(t, Scheme{}, [][2]string{
		{"1.0", "1.0.0"},
		{"1.0.0", "1.0"},
		{"1.0.0.0", "1"},
		{"1.0RC1", "1.0rc1"},
		{"1.0-post1", "1.0.post1"},
		{"1.0c1", "1.0rc1"},
		{"v1.0", "1.0"},
		{"0!1.0", "1.0"},
	}...)
}

func TestInvalid(t *testing.T) {
	versiontest.Invalid(t, Scheme{}, []string{"", "abc", "1.0-", "1..0", "1.0+", "french toast"}...)
}

func TestRegistered(t *testing.T) {
	versiontest.Registered(t, Scheme{})
}

func BenchmarkCompare(b *testing.B) {
	x, _ := Parse("2.28.1")
	y, _ := Parse("2.31.0rc1")
	b.ReportAllocs()
	for b.Loop() {
		x.Compare(y)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Parse("1.0a1.post1.dev1")
	}
}

// TestAgainstLibrary checks the precomputed key against the library's own
// comparison on many combinations of every segment.
func TestAgainstLibrary(t *testing.T) {
	var vs []string
	for _, ep := range []string{"", "1!"} {
		for _, rel := range []string{"0", "1", "1.0.0", "1.0.1", "1.2", "2", "10.0"} {
			for _, pre := range []string{"", "a1", "b0", "rc2", "alpha", "-pre.3"} {
				for _, post := range []string{"", ".post1", "-2", "rev0"} {
					for _, dev := range []string{"", ".dev0", ".dev2"} {
						// Local versions separated by "-" or "_" are left out: the
						// library splits them on "." only, where PEP 440 (and
						// this package) treat all three alike.
						for _, loc := range []string{"", "+1", "+abc", "+abc.2"} {
							vs = append(vs, ep+rel+pre+post+dev+loc)
						}
					}
				}
			}
		}
	}
	ps := make([]Version, len(vs))
	ls := make([]pep440.Version, len(vs))
	for i, s := range vs {
		var err error
		if ps[i], err = Parse(s); err != nil {
			t.Fatal(err)
		}
		if ls[i], err = pep440.Parse(s); err != nil {
			t.Fatal(err)
		}
	}
	bad := 0
	for i := range vs {
		for j := i % 101; j < len(vs); j += 101 { // a stride: 16 million pairs is too many
			// The library pads the shorter release with zeros only when it
			// is the receiver (it pads the argument against itself), so ask
			// it with the shorter release first.
			want := version.Sign(ls[i].Compare(ls[j]))
			if len(ps[i].k.release) > len(ps[j].k.release) {
				want = -version.Sign(ls[j].Compare(ls[i]))
			}
			if got := ps[i].Cmp(ps[j]); got != want {
				bad++
				if bad < 20 {
					t.Errorf("Cmp(%s, %s) = %d, library says %d", vs[i], vs[j], got, want)
				}
			}
		}
	}
}
