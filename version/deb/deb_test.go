package deb

import "testing"

// Cases from dpkg's own rules (deb-version(7)): tilde sorts before anything,
// epochs dominate, revisions compare last.
func TestCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0-1", "1.0-2", -1},
		{"1:1.0", "2.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"2.36.1-8+deb11u1", "2.36.1-8+deb11u2", -1},
		{"1.1.1n-0+deb11u3", "1.1.1n-0+deb11u5", -1},
		{"2.31-13+deb11u5", "2.31-13", 1},
		{"7.74.0-1.3+deb11u7", "7.74.0-1.3+deb11u10", -1},
		{"1.0+b1", "1.0", 1},
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
	if _, err := s.Parse("not a version"); err == nil {
		t.Error("Parse accepted garbage")
	}
}
