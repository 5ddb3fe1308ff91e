package nuget

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/openclair/clair/feed/osv"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

func testOrder(t *testing.T, ordered []string) {
	t.Helper()
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
			if got, want := a.Compare(b), version.Sign(i-j); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func testEqual(t *testing.T, pairs [][2]string) {
	t.Helper()
	for _, p := range pairs {
		a, err := Parse(p[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(p[1])
		if err != nil {
			t.Fatal(err)
		}
		if c := a.Cmp(b); c != 0 {
			t.Errorf("Cmp(%q, %q) = %d, want 0", p[0], p[1], c)
		}
	}
}

func testInvalid(t *testing.T, bad []string) {
	t.Helper()
	for _, s := range bad {
		if _, err := (Scheme{}).Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}

func TestRegistered(t *testing.T) {
	if _, ok := version.Lookup(Name); !ok {
		t.Fatalf("%s not registered", Name)
	}
}

func TestOrder(t *testing.T) {
	testOrder(t, []string{
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
	})
}

func TestEqual(t *testing.T) {
	testEqual(t, [][2]string{
		{"1.0", "1.0.0"},
		{"1.0", "1.0.0.0"},
		{"1", "1.0.0.0"},
		{"1.01", "1.1"},
		{"1.0.0-RC1", "1.0.0-rc1"},
		{"1.0.0-beta.01", "1.0.0-beta.1"}, // Int32.TryParse("01") is 1
		{"1.0.0+abc", "1.0.0"},
		{"1.0.0-rc.1+abc", "1.0.0-rc.1"},
	})
}

func TestInvalid(t *testing.T) {
	testInvalid(t, []string{"", "v1.0.0", "1.0.0.0.0", "1..0", "1.0.0-", "1.0.0-a..b", "1.0.0+", "1.0.0-ä", " 1.0", "1.0 ", "a.b"})
}

// TestOSV reads the real NuGet export of osv.dev: every version bound
// parses, and Newtonsoft.Json 9.0.1 (trivy's dotnet golden reports
// GHSA-5crp-9r3c-p9vr for it) is under the advisory, fixed in 13.0.1.
func TestOSV(t *testing.T) {
	advs := osvAdvisories(t, "NuGet", "nuget")
	if bad := checkAllBounds(t, Scheme{}, advs); bad != 0 {
		t.Errorf("%d version bounds of the export do not parse", bad)
	}
	a := findAdvisory(t, advs, "Newtonsoft.Json", "CVE-2024-21907")
	if !slices.Contains(a.Aliases, "GHSA-5crp-9r3c-p9vr") {
		t.Errorf("aliases %v lack GHSA-5crp-9r3c-p9vr", a.Aliases)
	}
	for v, want := range map[string]bool{
		"9.0.1": true, "12.0.3": true, "13.0.1-beta1": true,
		"13.0.1": false, "13.0.3": false,
	} {
		if got := affected(t, a, v); got != want {
			t.Errorf("Newtonsoft.Json %s under %s: %v, want %v", v, a.Name, got, want)
		}
	}
	if a.FixedIn != "13.0.1" {
		t.Errorf("FixedIn = %q", a.FixedIn)
	}
}

// osvData is osv.dev's export, where the machine has it.
const osvData = "/work/shared/testdata/feeds/osv"

// osvAdvisories parses the real osv.dev export of one ecosystem with the
// feed's own Parse and returns the advisories of namespace ns.
func osvAdvisories(t *testing.T, eco, ns string) []*vuln.Advisory {
	t.Helper()
	p := filepath.Join(osvData, eco+".zip")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent: the real osv.dev export is not staged on this machine", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []*vuln.Advisory
	err = osv.New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		if a.Namespace == ns {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// affected applies vuln.Advisory's documented range semantics with the
// scheme registered under the advisory's VersionFormat.
func affected(t *testing.T, a *vuln.Advisory, installed string) bool {
	t.Helper()
	s, ok := version.Lookup(a.VersionFormat)
	if !ok {
		t.Fatalf("%s: no scheme %q", a.Name, a.VersionFormat)
	}
	v, err := s.Parse(installed)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(a.Versions, installed) {
		return true
	}
	parse := func(b string) version.Version {
		pv, err := s.Parse(b)
		if err != nil {
			t.Fatalf("%s: bound %q: %v", a.Name, b, err)
		}
		return pv
	}
	for _, r := range a.Ranges {
		if r.Introduced != "" && v.Compare(parse(r.Introduced)) < 0 {
			continue
		}
		switch {
		case r.Fixed != "" && v.Compare(parse(r.Fixed)) >= 0:
		case r.LastAffected != "" && v.Compare(parse(r.LastAffected)) > 0:
		default:
			return true
		}
	}
	return false
}

// checkAllBounds parses every range bound and listed version of the
// advisories; it returns how many did not parse, after logging a few.
func checkAllBounds(t *testing.T, s version.Scheme, advs []*vuln.Advisory) int {
	t.Helper()
	bad := 0
	try := func(a *vuln.Advisory, v string) {
		if v == "" {
			return
		}
		if _, err := s.Parse(v); err != nil {
			if bad < 10 {
				t.Logf("%s %s: %v", a.Package, a.Name, err)
			}
			bad++
		}
	}
	for _, a := range advs {
		for _, r := range a.Ranges {
			try(a, r.Introduced)
			try(a, r.Fixed)
			try(a, r.LastAffected)
		}
		for _, v := range a.Versions {
			try(a, v)
		}
	}
	return bad
}

// findAdvisory returns the advisory of the package with that name.
func findAdvisory(t *testing.T, advs []*vuln.Advisory, pkg, name string) *vuln.Advisory {
	t.Helper()
	for _, a := range advs {
		if a.Package == pkg && a.Name == name {
			return a
		}
	}
	t.Fatalf("no advisory %s for %s in the export", name, pkg)
	return nil
}
