package match_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/feed/osv"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store/sqlite"
	_ "github.com/openclair/clair/version/maven"
	"github.com/openclair/clair/vuln"
)

// noGeneration hides the store's FeedStates: the matcher cannot cache, and
// reads the artifact→groups map on every match.
type noGeneration struct{ st *sqlite.Store }

func (s noGeneration) Advisories(ctx context.Context, ns string, pkgs []string) ([]*vuln.Advisory, error) {
	return s.st.Advisories(ctx, ns, pkgs)
}
func (s noGeneration) Details(ctx context.Context, advs []*vuln.Advisory) error {
	return s.st.Details(ctx, advs)
}
func (s noGeneration) PackageNames(ctx context.Context, ns string) ([]string, error) {
	return s.st.PackageNames(ctx, ns)
}

// BenchmarkGroupRecovery matches one spring-beans jar against osv.dev's full
// Maven export: "floor" with its group, as pom.properties gives it;
// "recovered" without, the map cached for the feed generation; "uncached"
// without, on a store that cannot say whether feeds changed.
func BenchmarkGroupRecovery(b *testing.B) {
	f, err := os.Open(sharedtest.Path(b, "feeds/osv/Maven.zip"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "clair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ReplaceFeed(ctx, "osv", "bench", func(emit func(*vuln.Advisory) error) error {
		return osv.New().Parse(ctx, f, fi.Size(), func(a *vuln.Advisory) error { a.Feed = "osv"; return emit(a) })
	}); err != nil {
		b.Fatal(err)
	}
	report := func(name string) *vuln.IndexReport {
		return &vuln.IndexReport{ManifestHash: "sha256:bench", Packages: map[string]*vuln.Package{
			"1": {ID: "1", Name: name, Version: "4.3.30.RELEASE", Ecosystem: "maven", Kind: vuln.KindBinary}}}
	}
	for _, bc := range []struct {
		name string
		m    *match.Matcher
		ir   *vuln.IndexReport
	}{
		{"floor", &match.Matcher{Store: st}, report("org.springframework:spring-beans")},
		{"recovered", &match.Matcher{Store: st}, report("spring-beans")},
		{"uncached", &match.Matcher{Store: noGeneration{st}}, report("spring-beans")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				vr, err := bc.m.Match(ctx, bc.ir)
				if err != nil {
					b.Fatal(err)
				}
				if len(vr.PackageVulnerabilities["1"]) == 0 {
					b.Fatal("spring-beans 4.3.30.RELEASE: nothing found")
				}
			}
		})
	}
}
