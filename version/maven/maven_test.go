package maven

import (
	"strings"
	"testing"

	"github.com/openclair/clair/internal/osvtest"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

func mustParse(t testing.TB, s string) Version {
	t.Helper()
	v, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	// ComparableVersionTest.newComparable: the canonical form is a fixed
	// point, except where Maven prints an empty qualifier that then reads
	// as a zero ("1-ga.1" is "1-.1").
	if c := v.Canonical(); !v.items.hasEmptyQualifier() && mustCanon(t, c) != c {
		t.Errorf("canonical(%q) = %q, which canonicalizes to %q", s, c, mustCanon(t, c))
	}
	return v
}

func mustCanon(t testing.TB, s string) string {
	t.Helper()
	if s == "" {
		return "" // the canonical form of "0" or "ga" is empty
	}
	v, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v.Canonical()
}

// checkOrder asserts each version is less than every later one, as
// ComparableVersionTest.checkVersionsOrder does.
func checkOrder(t *testing.T, vs ...string) {
	t.Helper()
	for i := range vs {
		a := mustParse(t, vs[i])
		for j := i + 1; j < len(vs); j++ {
			b := mustParse(t, vs[j])
			if c := a.Cmp(b); c != -1 {
				t.Errorf("Cmp(%s, %s) = %d, want -1", vs[i], vs[j], c)
			}
			if c := b.Cmp(a); c != 1 {
				t.Errorf("Cmp(%s, %s) = %d, want 1", vs[j], vs[i], c)
			}
		}
	}
}

func checkEqual(t *testing.T, vs ...string) {
	t.Helper()
	for i := range vs {
		for j := range vs {
			a, b := mustParse(t, vs[i]), mustParse(t, vs[j])
			if c := a.Cmp(b); c != 0 {
				t.Errorf("Cmp(%s, %s) = %d, want 0", vs[i], vs[j], c)
			}
			if a.Canonical() != b.Canonical() {
				t.Errorf("canonical %q (%s) != %q (%s)", a.Canonical(), vs[i], b.Canonical(), vs[j])
			}
		}
	}
}

// The cases below are maven-artifact's ComparableVersionTest (3.8.x).

func TestVersionsQualifier(t *testing.T) {
	checkOrder(t, "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc", "1-cr2",
		"1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot",
		"1-1", "1-2", "1-123")
}

func TestVersionsNumber(t *testing.T) {
	checkOrder(t, "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1",
		"2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m")
}

func TestVersionsEqual(t *testing.T) {
	for _, p := range [][]string{
		{"1", "1", "1.0", "1.0.0", "1-0", "1.0-0"},
		{"1.0", "1.0.0", "1.0-0"},
		// no separator between number and character
		{"1a", "1-a", "1.0-a", "1.0.0-a", "1.0a", "1.0.0a"},
		{"1x", "1-x", "1.0-x", "1.0.0-x", "1.0x", "1.0.0x"},
		// aliases
		{"1ga", "1", "1final", "1release", "1-ga", "1.ga", "1.final", "1-RELEASE"},
		{"1cr", "1rc"},
		// a, b and m followed by a digit
		{"1a1", "1-alpha-1", "1alpha1"},
		{"1b2", "1-beta-2", "1beta2"},
		{"1m3", "1-milestone-3", "1milestone3", "1Milestone3", "1MileStone3", "1MILESTONE3"},
		// case insensitive
		{"1X", "1x"},
		{"1A", "1a"},
		{"1B", "1b"},
		{"1M", "1m"},
		{"1Ga", "1GA", "1Final", "1FinaL", "1FINAL", "1"},
		{"1Cr", "1Rc", "1cR", "1rC"},
		// locale independent (testLocaleIndependent)
		{"1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
		// leading zeros
		{"1", "01", "001"},
		{"1.1", "1.01", "1.001"},
		{"1-1", "1-01", "1-001"},
		// zero
		{"0.0.0", "0.0", "0", "0-final-ga", "0.0.0-0.0.0"},
	} {
		checkEqual(t, p...)
	}
}

func TestVersionComparing(t *testing.T) {
	for _, p := range [][2]string{
		{"1", "2"},
		{"1.5", "2"},
		{"1", "2.5"},
		{"1.0", "1.1"},
		{"1.1", "1.2"},
		{"1.0.0", "1.1"},
		{"1.0.1", "1.1"},
		{"1.1", "1.2.0"},
		{"1.0-alpha-1", "1.0"},
		{"1.0-alpha-1", "1.0-alpha-2"},
		{"1.0-alpha-1", "1.0-beta-1"},
		{"1.0-beta-1", "1.0-SNAPSHOT"},
		{"1.0-SNAPSHOT", "1.0"},
		{"1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"},
		{"1.0", "1.0-1"},
		{"1.0-1", "1.0-2"},
		{"1.0.0", "1.0-1"},
		{"2.0-1", "2.0.1"},
		{"2.0.1-klm", "2.0.1-lmn"},
		{"2.0.1", "2.0.1-xyz"},
		{"2.0.1", "2.0.1-123"},
		{"2.0.1-xyz", "2.0.1-123"},
	} {
		checkOrder(t, p[0], p[1])
	}
}

// MNG-5568: a transitive order that an earlier ComparableVersion broke.
func TestMNG5568(t *testing.T) {
	checkOrder(t, "6.1.0rc3", "6.1.0", "6.1H.5-beta")
}

// MNG-6572: numbers of any length.
func TestMNG6572(t *testing.T) {
	checkOrder(t, "20190126.230843", "1234567890.12345", "123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta")
	checkOrder(t, "9223372036854775807", "9223372036854775808", "12345678901234567890", "12345678901234567891", "123456789012345678901234567890")
	checkEqual(t, "12345678901234567890", "0012345678901234567890")
}

// MNG-6964: a sublist compared with nothing is decided by all its items.
func TestMNG6964(t *testing.T) {
	checkOrder(t, "1-0.alpha", "1")
	checkOrder(t, "1-0.beta", "1")
	checkOrder(t, "1-0.alpha", "1-0.beta")
	checkOrder(t, "1", "1-0.1")
}

// TestMavenCycle pins a cycle that Maven's ComparableVersion has (found by
// FuzzCompare): a qualifier sorts before any sublist, whatever the sublist
// holds, while a sublist is compared with nothing by its content. Matching
// compares a version with one bound at a time, so the cycle only shows in
// versions no release uses.
func TestMavenCycle(t *testing.T) {
	checkOrder(t, "a", "0a0")
	checkOrder(t, "0a0", "0")
	checkOrder(t, "0", "a")
}

// The version order specification's own examples (maven.apache.org
// pom.html), where ComparableVersion agrees with them.
func TestSpecExamples(t *testing.T) {
	checkOrder(t, "1", "1.1")
	checkOrder(t, "1-snapshot", "1", "1-sp")
	checkOrder(t, "1-foo2", "1-foo10")
	checkOrder(t, "1-foo", "1-1", "1.1")
	checkOrder(t, "1-ga", "1-sp")
	checkOrder(t, "1-ga.1", "1-sp.1")
	checkEqual(t, "1-a1", "1-alpha-1")
	checkEqual(t, "1.ga", "1-ga", "1-0", "1.0", "1")
	// "1-sp-1" < "1-ga-1": ComparableVersion's normalization drops the
	// "ga" between two hyphens, so 1-ga-1 is [1, [[1]]].
	checkOrder(t, "1-sp-1", "1-ga-1")
	// osv.dev's fixture: a timestamped pre-release of graphql-java.
	checkOrder(t, "0.0.0-2021-05-17T01-01-51-5ec03a8b", "20.0.0")
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"1.0.0":              "1",
		"1-1.foo-bar1baz-.1": "1-1.foo-bar-1-baz-0.1",
		"1.0.0-foo.0.0":      "1-foo",
		"1.0.0-0.0.0":        "1",
		"1cr":                "1-rc",
		"1a1":                "1-alpha-1",
		"2.14.1":             "2.14.1",
		"2.0-beta9":          "2-beta-9",
		"5.3.15.RELEASE":     "5.3.15",
		"1.0-SNAPSHOT":       "1-snapshot",
	} {
		if got := mustParse(t, in).Canonical(); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// Real release histories, in Maven Central's order.
func TestRealReleases(t *testing.T) {
	// org.apache.logging.log4j:log4j-core around Log4Shell.
	checkOrder(t, "2.0-alpha1", "2.0-alpha2", "2.0-beta1", "2.0-beta9", "2.0-rc1", "2.0-rc2", "2.0", "2.0.1", "2.0.2",
		"2.1", "2.3", "2.3.1", "2.3.2", "2.12.1", "2.12.2", "2.12.3", "2.12.4", "2.13.0", "2.14.1", "2.15.0", "2.16.0",
		"2.17.0", "2.17.1", "2.17.2", "2.20.0", "3.0.0-alpha1", "3.0.0-beta1")
	// com.fasterxml.jackson.core:jackson-databind micro-patches.
	checkOrder(t, "2.9.10", "2.9.10.1", "2.9.10.2", "2.9.10.3", "2.9.10.4", "2.9.10.7", "2.9.10.8", "2.10.0", "2.10.5.1")
	// Maven puts an unknown qualifier after the release, so jackson's
	// pre-release "2.10.0.pr1" sorts after 2.10.0 for Maven too.
	checkOrder(t, "2.10.0", "2.10.0.pr1", "2.10.1")
	// org.springframework: old .RELEASE names, then plain ones.
	checkOrder(t, "4.3.30.RELEASE", "5.0.0.M1", "5.0.0.RC1", "5.0.0.RELEASE", "5.3.0-M1", "5.3.0-RC1", "5.3.0", "5.3.15", "5.3.18", "6.0.0-SNAPSHOT", "6.0.0")
	// com.google.guava:guava flavours.
	checkOrder(t, "10.0", "10.0.1", "11.0-rc1", "11.0", "30.1-android", "30.1-jre", "31.0.1-jre")
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", strings.Repeat("1.", MaxLen), "1.\xff"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%.40q) succeeded", s)
		}
	}
	s, ok := version.Lookup(Name)
	if !ok {
		t.Fatal("scheme not registered")
	}
	v, err := s.Parse("2.14.1")
	if err != nil || v.String() != "2.14.1" {
		t.Fatalf("Parse = %v, %v", v, err)
	}
}

// affected applies the advisory's ranges alone, not its listed versions
// (osvtest.Affected does both): TestOSVExport checks the listed versions
// against the ranges.
func affected(t testing.TB, a *vuln.Advisory, v Version) bool {
	t.Helper()
	for _, r := range a.Ranges {
		if r.Introduced != "" && mustParse(t, r.Introduced).Cmp(v) > 0 {
			continue
		}
		switch {
		case r.Fixed != "":
			if v.Cmp(mustParse(t, r.Fixed)) < 0 {
				return true
			}
		case r.LastAffected != "":
			if v.Cmp(mustParse(t, r.LastAffected)) <= 0 {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// TestLog4Shell reads CVE-2021-44228 from the real OSV Maven export and
// checks that log4j-core 2.14.1 is in its range and the fixed releases are
// not.
func TestLog4Shell(t *testing.T) {
	found := osvtest.Find(t, osvtest.Advisories(t, "Maven", "maven"), "org.apache.logging.log4j:log4j-core", "CVE-2021-44228")
	t.Logf("ranges %+v, fixed in %s", found.Ranges, found.FixedIn)
	for v, want := range map[string]bool{
		"2.14.1": true, "2.0-beta9": true, "2.0": true, "2.3.1": false, "2.12.1": true,
		"2.12.2": false, "2.15.0": false, "2.16.0": false, "2.0-beta8": false, "1.2.17": false,
	} {
		if got := affected(t, found, mustParse(t, v)); got != want {
			t.Errorf("log4j-core %s affected = %v, want %v (ranges %+v)", v, got, want, found.Ranges)
		}
	}
}

// TestOSVExport parses every version of the real Maven export and checks
// the scheme against osv.dev's own verdicts: the explicit "versions" lists
// osv.dev enumerated from each range must fall in those ranges.
func TestOSVExport(t *testing.T) {
	advs := osvtest.Advisories(t, "Maven", "maven")
	var checked, disagree int
	for _, a := range advs {
		for _, r := range a.Ranges {
			for _, s := range []string{r.Introduced, r.Fixed, r.LastAffected} {
				if s != "" {
					mustParse(t, s)
				}
			}
		}
		if len(a.Ranges) == 0 {
			continue
		}
		for _, s := range a.Versions {
			checked++
			if !affected(t, a, mustParse(t, s)) {
				disagree++
				if disagree <= 20 {
					t.Logf("%s %s: %s listed but outside %+v", a.Name, a.Package, s, a.Ranges)
				}
			}
		}
	}
	t.Logf("%d advisories, %d listed versions checked against their ranges, %d disagree", len(advs), checked, disagree)
	if checked == 0 {
		t.Fatal("no listed versions")
	}
	// osv.dev enumerates versions from deps.dev with its own comparator; a
	// handful of records mix ranges of other branches, so a few are
	// outside, but a wrong scheme would put thousands out.
	if float64(disagree) > 0.005*float64(checked) {
		t.Errorf("%d of %d listed versions outside their ranges", disagree, checked)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("2.0.0-beta-9.RELEASE"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	x, y := mustParse(b, "2.9.10.7"), mustParse(b, "2.9.10-SNAPSHOT")
	b.ReportAllocs()
	for b.Loop() {
		x.Cmp(y)
	}
}

// FuzzCompare checks that the order is antisymmetric and reflexive. It is
// not checked for transitivity, which Maven's ComparableVersion lacks in
// corners (see TestMavenCycle), nor for the canonical form, which like
// Maven's is no fixed point when a leading zero is dropped before a sublist
// ("00a.0b").
func FuzzCompare(f *testing.F) {
	for _, s := range [][3]string{{"1-alpha2snapshot", "1-1", "1"}, {"2.0.a", "2-1", "2.0"}, {"6.1H.5-beta", "6.1.0rc3", "6.1.0"}, {"1-0.alpha", "1", "1-0.1"}, {"1.-.", "-", "0"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		x, err1 := Parse(a)
		y, err2 := Parse(b)
		z, err3 := Parse(c)
		if err1 != nil || err2 != nil || err3 != nil {
			return
		}
		if c, d := x.Cmp(y), y.Cmp(x); c != -d {
			t.Fatalf("Cmp(%q, %q) = %d but Cmp(%q, %q) = %d", a, b, c, b, a, d)
		}
		if x.Cmp(x) != 0 {
			t.Fatalf("%q != itself", a)
		}
		if x.Cmp(z) != -z.Cmp(x) {
			t.Fatalf("Cmp(%q, %q) not antisymmetric", a, c)
		}
	})
}
