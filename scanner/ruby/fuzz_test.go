package ruby

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openclair/clair/scanner/scannertest"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/specifications/*.gemspec")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("# stub: a 1 ruby lib\n"))
	f.Add([]byte("Gem::Specification.new do |s|\ns.name = %q{a}\ns.version = '1'\nend"))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := scannertest.Consistent(t, &Scanner{}, "usr/local/bundle/specifications/x-1.gemspec", b)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Packages)+len(res.Warnings) != 1 {
			t.Fatalf("%d packages, %d warnings", len(res.Packages), len(res.Warnings))
		}
		for _, p := range res.Packages {
			if p.Name == "" || p.Version == "" || strings.ContainsAny(p.Name+p.Version, "\n\r\"'") || !utf8.ValidString(p.Version) {
				t.Fatalf("bad package %q %q", p.Name, p.Version)
			}
		}
	})
}
