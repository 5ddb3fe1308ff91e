package apk

import "testing"

// Cases follow apk-tools' version.c: suffixes _alpha < _beta < _pre < _rc <
// release < _p, and -rN revisions compare last.
func TestCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.1.1g-r0", "1.1.1g-r0", 0},
		{"1.1.1f-r0", "1.1.1g-r0", -1},
		{"3.0.8-r0", "3.0.10-r0", -1},
		{"1.2.3_rc1-r0", "1.2.3-r0", -1},
		{"1.2.3_p1-r0", "1.2.3-r0", 1},
		{"1.36.1-r2", "1.36.1-r10", -1},
		{"2.9.14-r1", "2.9.14-r0", 1},
	}
	var s Scheme
	for _, c := range cases {
		a, err := s.Parse(c.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Parse(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Compare(b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
