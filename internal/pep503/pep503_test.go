package pep503

import (
	"archive/zip"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
)

// spec is PEP 503's own definition.
var specRE = regexp.MustCompile(`[-_.]+`)

func spec(name string) string { return strings.ToLower(specRE.ReplaceAllString(name, "-")) }

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Django": "django", "zope.interface": "zope-interface", "Foo__Bar": "foo-bar",
		"a-_.b": "a-b", "requests": "requests", "Ruamel.YAML.clib": "ruamel-yaml-clib",
		"Flask_SQLAlchemy": "flask-sqlalchemy",
		// Where the matcher and the feed used to disagree.
		"foo_": "foo-", "_foo": "-foo", "": "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRealNames normalizes every package name of the real PyPI OSV export
// as the PEP's regular expression does, and checks it is idempotent.
func TestRealNames(t *testing.T) {
	zr, err := zip.OpenReader(sharedtest.Path(t, "feeds/osv/PyPI.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Affected []struct {
				Package struct{ Name string } `json:"package"`
			} `json:"affected"`
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, a := range r.Affected {
			names[a.Package.Name] = true
		}
	}
	changed := 0
	for n := range names {
		got := Normalize(n)
		if want := spec(n); got != want {
			t.Errorf("Normalize(%q) = %q, PEP 503 says %q", n, got, want)
		}
		if Normalize(got) != got {
			t.Errorf("Normalize(%q) = %q is not normalized", n, got)
		}
		if got != n {
			changed++
		}
	}
	t.Logf("%d real PyPI names, %d changed by normalization", len(names), changed)
	if len(names) < 1000 || changed == 0 {
		t.Errorf("%d names, %d changed: the export should have thousands", len(names), changed)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Django", "zope.interface", "_foo", "foo_", "a-_.b", "Ä_b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Normalize(s), spec(s); isASCII(s) && got != want {
			t.Errorf("Normalize(%q) = %q, PEP 503 says %q", s, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
