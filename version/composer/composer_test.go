package composer

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/openclair/clair/version/versiontest"

	"github.com/openclair/clair/feed/osv"
	"github.com/openclair/clair/internal/osvtest"
	"github.com/openclair/clair/vuln"
)

// TestNormalize checks cases of composer/semver's VersionParserTest.
func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"1.0.0":                 "1.0.0.0",
		"1.2.3.4":               "1.2.3.4",
		"1.0.0RC1dev":           "1.0.0.0-RC1-dev",
		"1.0.0-rC15-dev":        "1.0.0.0-RC15-dev",
		"1.0.0.RC.15-dev":       "1.0.0.0-RC15-dev",
		"1.0.0-rc1":             "1.0.0.0-RC1",
		"1.0.0.pl3-dev":         "1.0.0.0-patch3-dev",
		"1.0-dev":               "1.0.0.0-dev",
		"0":                     "0.0.0.0",
		"10.4.13-beta":          "10.4.13.0-beta",
		"10.4.13beta2":          "10.4.13.0-beta2",
		"10.4.13beta.2":         "10.4.13.0-beta2",
		"v1.13.11-beta.0":       "1.13.11.0-beta0",
		"1.13.11.0-beta0":       "1.13.11.0-beta0",
		"10.4.13-b":             "10.4.13.0-beta",
		"10.4.13-b5":            "10.4.13.0-beta5",
		"v1.0.0":                "1.0.0.0",
		"v5.4.20":               "5.4.20.0",
		"2010.01":               "2010.01.0.0",
		"2010.01.02":            "2010.01.02.0",
		"v20100102":             "20100102",
		"2010-01-02":            "2010.01.02",
		"2010-01-02.5":          "2010.01.02.5",
		"20100102-203040":       "20100102.203040",
		"20100102203040-10":     "20100102203040.10",
		"20100102-203040-p1":    "20100102.203040-patch1",
		"1.x-dev":               "1.9999999.9999999.9999999-dev",
		"1.0.x-dev":             "1.0.9999999.9999999-dev",
		"1.0.0+foo@dev":         "1.0.0.0",
		"1.0.0-beta.5+foo":      "1.0.0.0-beta5",
		"1.0.0-alpha.3.1+foo":   "1.0.0.0-alpha3.1",
		"1.0.0-alpha-2.1-3+foo": "1.0.0.0-alpha2.1-3",
		"1.0.0+foo as 2.0":      "1.0.0.0",
		"00.01.03.04":           "00.01.03.04",
		"0700":                  "0700.0.0.0",
		"041.x-dev":             "041.9999999.9999999.9999999-dev",
		" 1.0.0":                "1.0.0.0",
		"1.0.0-stable":          "1.0.0.0",
	} {
		got, err := Normalize(in)
		if err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestBranches(t *testing.T) {
	for in, want := range map[string]string{
		"dev-master":          "dev-master",
		"master":              "dev-master",
		"dev-feature/foo":     "dev-feature/foo",
		"DEV-FOOBAR":          "dev-FOOBAR",
		"dev-master as 1.0.0": "dev-master",
		"dev-feature+issue-1": "dev-feature+issue-1",
	} {
		got, err := Normalize(in)
		if !errors.Is(err, ErrBranch) || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q, ErrBranch", in, got, err, want)
		}
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func TestInvalid(t *testing.T) {
	versiontest.Invalid(t, Scheme{}, []string{"", "foo", "1.0.0-meh", "1.0.0.0.0", "feature-foo", "a.b.c", "1.0.0 beta", "1.0.0-beta.x", "~1.0"}...)
}

// ordered is strictly increasing in Composer's order.
var ordered = []string{
	"0",
	"0.9.9",
	"1.0.0-dev",
	"1.0.0-alpha",
	"1.0.0-alpha1",
	"1.0.0-a2",
	"1.0.0-alpha.3.1",
	"1.0.0-beta",
	"1.0.0-b2",
	"1.0.0-beta.11",
	"1.0.0-RC1",
	"1.0.0-rc2",
	"1.0.0",
	"1.0.0-p1", // a patch release sorts after its version
	"1.0.0-pl2",
	"1.0.0.1",
	"1.0.1",
	"1.0.x-dev",
	"1.1",
	"1.8.3",
	"1.8.4",
	"2.1.1",
	"v5.4.19",
	"5.4.20",
	"10.0.0",
	"2010.01.02",
	"20100102.1",
}

func TestOrder(t *testing.T) {
	versiontest.Ordered(t, Scheme{}, ordered...)
}

func TestEqual(t *testing.T) {
	versiontest.Equal(t, Scheme{}, [][2]string{
		{"1.0", "1.0.0.0"},
		{"v1.0.0", "1.0.0"},
		{"1.0.0-rc1", "1.0.0-RC1"},
		{"1.0.0-b1", "1.0.0-beta1"},
		{"1.0.0-pl1", "1.0.0-patch1"},
		{"1.0.0+build", "1.0.0"},
		{"1.0.0-stable", "1.0.0"},
	}...)
}

func TestRegistered(t *testing.T) {
	versiontest.Registered(t, Scheme{})
}

// TestRealAdvisory runs a real Packagist record from GitHub's advisory
// database (testdata/GHSA-q7rv-6hp3-vh96.json, guzzlehttp/psr7, fixed in
// 1.8.4 and 2.1.1) through the OSV feed's Parse: psr7 1.8.3, which trivy's
// composer-vendor golden reports as vulnerable, is in range.
func TestRealAdvisory(t *testing.T) {
	rec, err := os.ReadFile("testdata/GHSA-q7rv-6hp3-vh96.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("GHSA-q7rv-6hp3-vh96.json")
	w.Write(rec)
	zw.Close()
	var a *vuln.Advisory
	err = osv.New().Parse(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), func(x *vuln.Advisory) error {
		a = x
		return nil
	})
	if err != nil || a == nil {
		t.Fatalf("Parse: %v, %v", a, err)
	}
	if a.VersionFormat != Name || a.Package != "guzzlehttp/psr7" || a.Name != "CVE-2022-24775" || a.FixedIn != "1.8.4" {
		t.Fatalf("advisory %+v", a)
	}
	for v, want := range map[string]bool{
		"1.8.3": true, "v1.8.3": true, "1.0.0-beta1": true, "2.0.0": true, "2.1.0": true,
		"1.8.4": false, "1.9.0": false, "2.1.1": false, "2.4.5": false, "2.0.0-RC1": false,
	} {
		if got := osvtest.Affected(t, a, v); got != want {
			t.Errorf("guzzlehttp/psr7 %s: affected %v, want %v", v, got, want)
		}
	}
}
