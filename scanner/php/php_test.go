package php

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/version/composer"
)

func TestWants(t *testing.T) {
	scannertest.Wants(t, &Scanner{}, map[string]bool{
		"var/www/html/vendor/composer/installed.json":   true,
		"vendor/composer/installed.json":                true,
		"root/.composer/vendor/composer/installed.json": true,
		"var/www/html/vendor/composer/installed.php":    false,
		"var/www/html/composer.lock":                    false,
		"var/www/html/myvendor/composer/installed.json": false,
		"var/www/html/vendor/composer/installed.json/x": false,
	})
}

type nv struct{ Name, Version, Purl string }

func packages(res *scanner.Result) []nv {
	var out []nv
	for _, p := range res.Packages {
		out = append(out, nv{p.Name, p.Version, p.Purl})
	}
	return out
}

// TestTrivyGolden scans the installed.json trivy's composer-vendor golden
// was produced from and compares with trivy's packages.
func TestTrivyGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/composer2-installed.json")
	if err != nil {
		t.Fatal(err)
	}
	const p = "var/www/html/vendor/composer/installed.json"
	res := scannertest.MustScan(t, &Scanner{}, p, b)
	if len(res.Warnings) != 0 {
		t.Fatal(res.Warnings)
	}
	for _, pkg := range res.Packages {
		if pkg.Ecosystem != Ecosystem || pkg.Path != p || pkg.PackageDB != p || pkg.Kind != "binary" {
			t.Errorf("%+v", pkg)
		}
	}
	want := []nv{
		{"guzzlehttp/psr7", "1.8.3", "pkg:composer/guzzlehttp/psr7@1.8.3"},
		{"psr/http-message", "1.1", "pkg:composer/psr/http-message@1.1"},
		{"ralouphie/getallheaders", "3.0.3", "pkg:composer/ralouphie/getallheaders@3.0.3"},
	}
	got := packages(res)
	if !equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	gb, err := os.ReadFile(sharedtest.Path(t, "peer-results/trivy/integration-goldens/composer.vendor.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []struct {
			Packages []struct {
				Name, Version string
				Identifier    struct{ PURL string }
			}
		}
	}
	if err := json.Unmarshal(gb, &doc); err != nil {
		t.Fatal(err)
	}
	var trivy []nv
	for _, r := range doc.Results {
		for _, p := range r.Packages {
			trivy = append(trivy, nv{p.Name, p.Version, p.Identifier.PURL})
		}
	}
	if !equal(got, trivy) {
		t.Errorf("got %v, trivy %v", got, trivy)
	}
}

func equal(a, b []nv) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestComposer1(t *testing.T) {
	b, err := os.ReadFile("testdata/composer1-installed.json")
	if err != nil {
		t.Fatal(err)
	}
	res := scannertest.MustScan(t, &Scanner{}, "app/vendor/composer/installed.json", b)
	if len(res.Warnings) != 0 || len(res.Packages) != 9 {
		t.Fatalf("%d packages, warnings %v", len(res.Packages), res.Warnings)
	}
	y := res.Packages[7]
	if y.Name != "symfony/yaml" || y.Version != "3.1.6" || y.Purl != "pkg:composer/symfony/yaml@3.1.6" {
		t.Errorf("the v of v3.1.6 kept: %+v", y)
	}
	for _, p := range res.Packages {
		if _, err := composer.Parse(p.Version); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
}

func TestVersions(t *testing.T) {
	in := `{"packages":[
		{"name":"symfony/http-kernel","version":"v5.4.19"},
		{"name":"laravel/framework","version":"V10.0.0"},
		{"name":"acme/app","version":"dev-main"},
		{"name":"acme/vtool","version":"very-1"},
		{"name":"nope","version":"1.0"},
		{"name":"a/b"},
		{"name":7,"version":"1"}
	]}`
	res := scannertest.MustScan(t, &Scanner{}, "vendor/composer/installed.json", []byte(in))
	want := []nv{
		{"symfony/http-kernel", "5.4.19", "pkg:composer/symfony/http-kernel@5.4.19"},
		{"laravel/framework", "10.0.0", "pkg:composer/laravel/framework@10.0.0"},
		{"acme/app", "dev-main", "pkg:composer/acme/app@dev-main"},
		{"acme/vtool", "very-1", "pkg:composer/acme/vtool@very-1"},
	}
	if got := packages(res); !equal(got, want) {
		t.Errorf("got %v", got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "3 packages") {
		t.Errorf("warnings %v", res.Warnings)
	}
}

func TestBad(t *testing.T) {
	for _, in := range []string{"", "{", "null", "42", `{"packages": 3}`, `{"other": []}`, "\xef\xbb\xbf[1", `"x"`} {
		res := scannertest.MustScan(t, &Scanner{}, "vendor/composer/installed.json", []byte(in))
		if len(res.Packages) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "vendor/composer/installed.json") {
			t.Errorf("%q: %+v", in, res)
		}
	}
	// A BOM and an empty list are fine.
	if res := scannertest.MustScan(t, &Scanner{}, "vendor/composer/installed.json", []byte("\xef\xbb\xbf[]")); len(res.Warnings) != 0 {
		t.Errorf("%v", res.Warnings)
	}
}

func TestBounded(t *testing.T) {
	res, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: "vendor/composer/installed.json", Size: MaxSize + 1, R: strings.NewReader("[]")})
	if err != nil || len(res.Warnings) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	big := "[" + strings.Repeat(" ", MaxSize) + "]"
	res, err = (&Scanner{}).Scan(context.Background(), scanner.File{Path: "vendor/composer/installed.json", R: strings.NewReader(big)})
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "skipped") {
		t.Fatalf("%v %v", res, err)
	}
}
