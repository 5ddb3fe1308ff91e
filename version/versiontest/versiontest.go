// Package versiontest checks a version scheme the same way whatever the
// ecosystem, after go-containerregistry's validate package: a scheme's own
// tests give the versions, this package says what must hold of them. Use it
// from every version scheme's tests, in this module or in a plugin.
package versiontest

import (
	"testing"

	"github.com/openclair/clair/version"
)

func parse(t testing.TB, s version.Scheme, v string) version.Version {
	t.Helper()
	p, err := s.Parse(v)
	if err != nil {
		t.Fatalf("%s: Parse(%q): %v", s.Name(), v, err)
	}
	return p
}

// Ordered checks that ascending, strictly increasing, compares so in every
// pair, both ways: a total order on the examples (antisymmetric and
// transitive by construction of the check).
func Ordered(t testing.TB, s version.Scheme, ascending ...string) {
	t.Helper()
	vs := make([]version.Version, len(ascending))
	for i, v := range ascending {
		vs[i] = parse(t, s, v)
	}
	for i := range vs {
		for j := range vs {
			want := version.Sign(i - j)
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("%s: Compare(%s, %s) = %d, want %d", s.Name(), ascending[i], ascending[j], got, want)
			}
		}
	}
}

// Equal checks that each pair spells one version: it compares equal both
// ways.
func Equal(t testing.TB, s version.Scheme, pairs ...[2]string) {
	t.Helper()
	for _, p := range pairs {
		a, b := parse(t, s, p[0]), parse(t, s, p[1])
		if c, d := a.Compare(b), b.Compare(a); c != 0 || d != 0 {
			t.Errorf("%s: Compare(%s, %s) = %d and back %d, want 0", s.Name(), p[0], p[1], c, d)
		}
	}
}

// Invalid checks that each input is refused with an error.
func Invalid(t testing.TB, s version.Scheme, inputs ...string) {
	t.Helper()
	for _, in := range inputs {
		if v, err := s.Parse(in); err == nil {
			t.Errorf("%s: Parse(%q) = %v, want an error", s.Name(), in, v)
		}
	}
}

// Registered checks that the scheme is in the registry under its name.
func Registered(t testing.TB, s version.Scheme) {
	t.Helper()
	got, ok := version.Lookup(s.Name())
	if !ok {
		t.Fatalf("%s: not registered", s.Name())
	}
	if got.Name() != s.Name() {
		t.Fatalf("%s: registered as %q", s.Name(), got.Name())
	}
}

// Consistent is for fuzz targets: whatever a, b and c are, the versions of
// them that parse compare consistently (reflexive, antisymmetric,
// transitive) and never panic.
func Consistent(t testing.TB, s version.Scheme, a, b, c string) {
	t.Helper()
	var vs []version.Version
	for _, in := range []string{a, b, c} {
		if v, err := s.Parse(in); err == nil {
			vs = append(vs, v)
		}
	}
	for _, x := range vs {
		if x.Compare(x) != 0 {
			t.Fatalf("%s: %s != itself", s.Name(), x)
		}
		for _, y := range vs {
			if x.Compare(y) != -y.Compare(x) {
				t.Fatalf("%s: Compare(%s, %s) = %d but Compare(%s, %s) = %d", s.Name(), x, y, x.Compare(y), y, x, y.Compare(x))
			}
			for _, z := range vs {
				if x.Compare(y) <= 0 && y.Compare(z) <= 0 && x.Compare(z) > 0 {
					t.Fatalf("%s: %s <= %s <= %s but %s > %s", s.Name(), x, y, z, x, z)
				}
			}
		}
	}
}
