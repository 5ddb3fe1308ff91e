package ruby

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner/scannertest"
)

func TestWants(t *testing.T) {
	scannertest.Wants(t, &Scanner{}, map[string]bool{
		"usr/local/bundle/specifications/rack-2.2.3.gemspec":                               true,
		"usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec":                true,
		"var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec":                  true,
		"app/vendor/bundle/ruby/3.2.0/specifications/nokogiri-1.15.4-x86_64-linux.gemspec": true,
		"specifications/x-1.gemspec":                                                       true,
		"usr/local/bundle/gems/rack-2.2.3/rack.gemspec":                                    false, // the gem's own source gemspec
		"usr/local/bundle/specifications/.gemspec":                                         false,
		"usr/local/bundle/specifications/rack-2.2.3.gemspec.bak":                           false,
		"usr/local/bundle/specifications/sub/x-1.gemspec":                                  false,
		"myspecifications/x-1.gemspec":                                                     false,
	})
}

func TestScan(t *testing.T) {
	for _, c := range []struct {
		file, name, version, purl string
	}{
		{"rack-2.2.3.gemspec", "rack", "2.2.3", "pkg:gem/rack@2.2.3"},
		{"async-1.25.0.gemspec", "async", "1.25.0", "pkg:gem/async@1.25.0"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "specifications", c.file))
		if err != nil {
			t.Fatal(err)
		}
		p := "usr/local/bundle/specifications/" + c.file
		res := scannertest.MustScan(t, &Scanner{}, p, b)
		if len(res.Warnings) != 0 || len(res.Packages) != 1 {
			t.Fatalf("%s: %+v", c.file, res)
		}
		got := res.Packages[0]
		if got.Name != c.name || got.Version != c.version || got.Purl != c.purl || got.Ecosystem != Ecosystem ||
			got.Path != p || got.PackageDB != p || got.Kind != "binary" {
			t.Errorf("%s: %+v", c.file, got)
		}
	}
}

func TestMalformed(t *testing.T) {
	// trivy fails on this gemspec ("failed to parse gemspec"): a warning
	// here, not a layer failure.
	b, err := os.ReadFile("testdata/specifications/malformed01.gemspec")
	if err != nil {
		t.Fatal(err)
	}
	res := scannertest.MustScan(t, &Scanner{}, "s/specifications/malformed01.gemspec", b)
	if len(res.Packages) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "malformed01.gemspec") {
		t.Fatalf("%+v", res)
	}
	for _, in := range []string{
		"",
		"\x00\x01binary",
		"Gem::Specification.new do |s|\n  s.name = \"a b\"\n  s.version = \"1\"\nend\n",
		"Gem::Specification.new do |s|\n  s.name = \"ab\"\n  s.version = \"1..2\"\nend\n",
		"Gem::Specification.new do |s|\n  s.name = \"ab\"\n  s.version = \"\"\nend\n",
	} {
		res := scannertest.MustScan(t, &Scanner{}, "s/specifications/x-1.gemspec", []byte(in))
		if len(res.Packages) != 0 || len(res.Warnings) != 1 {
			t.Errorf("%q: %+v", in, res)
		}
	}
}

func TestVariants(t *testing.T) {
	for in, want := range map[string][2]string{
		// RubyGems 1.x wrote %q{} literals.
		"# -*- encoding: utf-8 -*-\n\nGem::Specification.new do |s|\n  s.name = %q{rack}\n  s.version = \"1.1.0\"\nend\n": {"rack", "1.1.0"},
		// Single quotes, a brace block, extra spaces.
		"Gem::Specification.new { |spec|\n spec.name    =  'my_gem'\n spec.version = '0.1.0.pre'\n}\n": {"my_gem", "0.1.0.pre"},
		// Only the stub line holds the version.
		"# stub: json 2.6.1 ruby lib\nGem::Specification.new do |s|\n  s.name = \"json\".freeze\n  s.version = JSON::VERSION\nend\n": {"json", "2.6.1"},
		// Comparisons and other fields are not assignments.
		"Gem::Specification.new do |s|\n  s.name == \"x\"\n  s.name_tag = \"y\"\n  s.name = \"z\"\n  s.version = Gem::Version.new(\"3.0\")\nend\n": {"z", "3.0"},
		// Another block variable's assignments do not count.
		"Gem::Specification.new do |s|\n  t.name = \"no\"\n  s.name = \"yes\"\n  s.version = \"2\"\nend\n": {"yes", "2"},
	} {
		name, ver, err := Parse(strings.NewReader(in))
		if err != nil || name != want[0] || ver != want[1] {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q", in, name, ver, err, want)
		}
	}
}

func TestBounded(t *testing.T) {
	big := bytes.Repeat([]byte("# padding\n"), MaxSize/10+1)
	res := scannertest.MustScan(t, &Scanner{}, "s/specifications/x-1.gemspec", big)
	if len(res.Packages) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "skipped") {
		t.Fatalf("%+v", res.Warnings)
	}
	// A long line is skipped, not an error.
	long := "Gem::Specification.new do |s|\n  s.files = [\"" + strings.Repeat("x", 200<<10) + "\"]\n  s.name = \"a\"\n  s.version = \"1\"\nend\n"
	if res := scannertest.MustScan(t, &Scanner{}, "s/specifications/a-1.gemspec", []byte(long)); len(res.Packages) != 1 {
		t.Fatalf("%+v", res)
	}
}

// TestTrivyGolden checks the gemspec paths trivy reports for its
// fluentd-multiple-lockfiles image (Debian 10, Ruby 2.5 gems in
// var/lib/gems/2.5.0/specifications): every one is wanted, and trivy's name
// and version agree with the NAME-VERSION file name RubyGems gives it. The
// gemspec files themselves are not staged.
func TestTrivyGolden(t *testing.T) {
	b, err := os.ReadFile(sharedtest.Path(t, "peer-results/trivy/integration-goldens/fluentd-multiple-lockfiles.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []struct {
			Type     string
			Packages []struct {
				Name, Version string
				FilePath      string
			}
			Vulnerabilities []struct {
				PkgName, PkgPath, InstalledVersion string
			}
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range doc.Results {
		if r.Type != "gemspec" {
			continue
		}
		for _, v := range r.Vulnerabilities {
			n++
			if !(&Scanner{}).Wants(v.PkgPath) {
				t.Errorf("trivy's %s not wanted", v.PkgPath)
			}
			if base := filepath.Base(v.PkgPath); base != v.PkgName+"-"+v.InstalledVersion+".gemspec" {
				t.Errorf("%s: trivy says %s %s", v.PkgPath, v.PkgName, v.InstalledVersion)
			}
		}
	}
	if n == 0 {
		t.Fatal("no gemspec results in the golden")
	}
}
