package postgres

import (
	"os"
	"testing"

	"github.com/openclair/clair/feed/osv"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/vuln"
)

// BenchmarkPackageNames reads the package names of osv.dev's full Maven
// export (what the matcher does once per feed generation) against a floor:
// the advisories of one package, what every match reads.
func BenchmarkPackageNames(b *testing.B) {
	f, err := os.Open(sharedtest.Path(b, "feeds/osv/Maven.zip"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	s := openCfg(b, testSchema(b))
	ctx := b.Context()
	if _, err := s.ReplaceFeed(ctx, "osv", "bench", func(emit func(*vuln.Advisory) error) error {
		return osv.New().Parse(ctx, f, fi.Size(), func(a *vuln.Advisory) error { a.Feed = "osv"; return emit(a) })
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			if as, err := s.Advisories(ctx, "maven", []string{"org.springframework:spring-beans"}); err != nil || len(as) == 0 {
				b.Fatal(len(as), err)
			}
		}
	})
	b.Run("names", func(b *testing.B) {
		for b.Loop() {
			if ns, err := s.PackageNames(ctx, "maven"); err != nil || len(ns) != 2426 {
				b.Fatal(len(ns), err)
			}
		}
	})
}
