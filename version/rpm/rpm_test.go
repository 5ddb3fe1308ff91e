package rpm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/openclair/clair/version"
)

func TestRegistered(t *testing.T) {
	s, ok := version.Lookup(Name)
	if !ok {
		t.Fatalf("scheme %q not registered", Name)
	}
	v, err := s.Parse("1:2.3-4.el9")
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != "1:2.3-4.el9" {
		t.Errorf("String() = %q", v.String())
	}
}

// cmpCases are rpmvercmp results from rpm's own test suite
// (tests/rpmvercmp.at) and rpm's EVR rules; all were checked against
// rpm 4.18's rpm.vercmp by TestAgainstRPM.
var cmpCases = []struct {
	a, b string
	want int
}{
	{"1.0", "1.0", 0},
	{"1.0", "2.0", -1},
	{"2.0", "1.0", 1},
	{"2.0.1", "2.0.1", 0},
	{"2.0", "2.0.1", -1},
	{"2.0.1a", "2.0.1a", 0},
	{"2.0.1a", "2.0.1", 1},
	{"5.5p1", "5.5p1", 0},
	{"5.5p1", "5.5p2", -1},
	{"5.5p10", "5.5p10", 0},
	{"5.5p1", "5.5p10", -1},
	{"10xyz", "10.1xyz", -1},
	{"xyz10", "xyz10.1", -1},
	{"xyz.4", "xyz.4", 0},
	{"xyz.4", "8", -1},
	{"xyz.4", "2", -1},
	{"5.5p2", "5.6p1", -1},
	{"5.6p1", "6.5p1", -1},
	{"6.0.rc1", "6.0", 1},
	{"10b2", "10a1", 1},
	{"1.0aa", "1.0a", 1},
	{"10.0001", "10.1", 0},
	{"10.0001", "10.0039", -1},
	{"4.999.9", "5.0", -1},
	{"20101121", "20101122", -1},
	{"2_0", "2_0", 0},
	{"2.0", "2_0", 0},
	{"a", "a", 0},
	{"a+", "a+", 0},
	{"a+", "a_", 0},
	{"+a", "_a", 0},
	{"+_", "_+", 0},
	{"1.0~rc1", "1.0~rc1", 0},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~rc1~git123", "1.0~rc1", -1},
	{"1.0^", "1.0^", 0},
	{"1.0^", "1.0", 1},
	{"1.0^git1", "1.0", 1},
	{"1.0^git1", "1.0.1", -1},
	{"1.0^git1", "1.0^git2", -1},
	{"1.0^git1", "1.01", -1},
	{"1.0^20160101", "1.0.1", -1},
	{"1.0^20160101^git1", "1.0^20160101", 1},
	{"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0^git1~pre", "1.0^git1", -1},
	{"1.0^git1", "1.0~rc1", 1},
	// Epochs and releases.
	{"2:1.0", "1:9.9", 1},
	{"0:1.0-1", "1.0-1", 0},
	{"1:1.0-1", "1.0-1", 1},
	{"1.0-1.el8", "1.0-1.el8_1", -1},
	{"1.0-1.el8_1", "1.0-2.el8", -1},
	{"1.1.1k-9.el8_7", "1.1.1k-7.el8_6", 1},
	{"1:1.1.1k-9.el8_7", "1:1.1.1k-9.el8_7", 0},
	{"2.28-225.el8", "2.28-211.el8", 1},
	{"3.6.8-51.el8_8.2", "3.6.8-51.el8_8.10", -1},
	{"1.0-1", "1.0", 1}, // the library: an absent release is the lowest
}

func TestCompare(t *testing.T) {
	for _, c := range cmpCases {
		a, b := MustParse(c.a), MustParse(c.b)
		if got := a.Compare(b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := b.Compare(a); got != -c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestParse(t *testing.T) {
	good := []struct{ s, e, v, r string }{
		{"1.0", "0", "1.0", ""},
		{"1.0-1", "0", "1.0", "1"},
		{"3:1.0-1.el9", "3", "1.0", "1.el9"},
		{"0:2.4.37-65.module+el8.9.0+19699+7a7a2044", "0", "2.4.37", "65.module+el8.9.0+19699+7a7a2044"},
		{"1.0^git1~rc2", "0", "1.0^git1~rc2", ""},
	}
	for _, g := range good {
		v, err := Parse(g.s)
		if err != nil {
			t.Errorf("Parse(%q): %v", g.s, err)
			continue
		}
		if e := strconv.Itoa(v.Epoch()); e != g.e || v.Ver() != g.v || v.Release() != g.r {
			t.Errorf("Parse(%q) = %s / %s / %s, want %s / %s / %s", g.s, e, v.Ver(), v.Release(), g.e, g.v, g.r)
		}
	}
	for _, s := range []string{"", ":1.0", "a:1.0", "-1:1.0", "1:", "1:-1", "1.0-", "-1", "1.0-1-2", "1:2:3", "1.0 -1", "1.0\n", "99999999999:1"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q): no error", s)
		}
	}
}

// TestAgainstRPM compares every pair of a set of versions with rpm's own
// rpm.vercmp, through rpm's embedded Lua. Pairs where one side has no
// release are left out: rpm treats a missing release as matching any, the
// library as lower than any.
func TestAgainstRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm not installed (apt-get install rpm)")
	}
	set := map[string]bool{}
	for _, c := range cmpCases {
		set[c.a], set[c.b] = true, true
	}
	extra := []string{"1.0-1", "1.0-2", "1:0.9-1", "1.0~rc1-1", "1.0^git1-1", "1.0-1.el8", "1.0-1.el8_1", "1.0-10.el8", "1.0-1~beta",
		"1.0-1^post", "0.5.a-1", "0.5a-1", "0.5.1-1", "1.00-1", "1.0.0-1", "a1-1", "1a-1", "2.0.0-0.rc1", "2.0.0-1.fc38", "2.0.0-1.fc39"}
	for _, e := range extra {
		set[e] = true
	}
	var vs []string
	for s := range set {
		if strings.ContainsAny(s, `"\`) {
			continue
		}
		vs = append(vs, s)
	}
	type pair struct{ a, b string }
	var pairs []pair
	var lua strings.Builder
	for _, a := range vs {
		for _, b := range vs {
			if strings.Contains(a, "-") != strings.Contains(b, "-") {
				continue
			}
			pairs = append(pairs, pair{a, b})
			fmt.Fprintf(&lua, "print(rpm.vercmp(%q, %q)..\" \")\n", a, b)
		}
	}
	script := filepath.Join(t.TempDir(), "cmp.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpm", "--eval", fmt.Sprintf("%%{lua: dofile(%q)}", script)).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm: %v\n%s", err, out)
	}
	res := strings.Fields(string(out))
	if len(res) != len(pairs) {
		t.Fatalf("rpm gave %d results for %d pairs", len(res), len(pairs))
	}
	for i, p := range pairs {
		want, err := strconv.Atoi(res[i])
		if err != nil {
			t.Fatalf("rpm output %q", res[i])
		}
		if got := MustParse(p.a).Cmp(MustParse(p.b)); got != version.Sign(want) {
			t.Errorf("Cmp(%q, %q) = %d, rpm says %d", p.a, p.b, got, want)
		}
	}
	t.Logf("%d pairs agree with rpm", len(pairs))
}

func BenchmarkCompare(b *testing.B) {
	x, y := MustParse("1:3.6.8-51.el8_8.2"), MustParse("1:3.6.8-51.el8_8.10")
	b.ReportAllocs()
	for b.Loop() {
		x.Cmp(y)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("1:3.6.8-51.el8_8.2"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCompare checks that Parse never panics and that Compare is a
// consistent order on whatever it accepts.
func FuzzCompare(f *testing.F) {
	for _, c := range cmpCases {
		f.Add(c.a, c.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		if errA != nil || errB != nil {
			return
		}
		ab, ba := va.Cmp(vb), vb.Cmp(va)
		if ab != -ba || va.Cmp(va) != 0 {
			t.Fatalf("Cmp(%q, %q) = %d, reverse %d", a, b, ab, ba)
		}
		if va.String() != a {
			t.Fatalf("String() = %q, parsed %q", va.String(), a)
		}
	})
}
