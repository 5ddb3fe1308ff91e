package match_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store/sqlite"
	_ "github.com/openclair/clair/version/maven"
	"github.com/openclair/clair/vuln"
)

// countingStore counts the PackageNames reads of a real SQLite store.
type countingStore struct {
	*sqlite.Store
	reads int
}

func (s *countingStore) PackageNames(ctx context.Context, ns string) ([]string, error) {
	s.reads++
	return s.Store.PackageNames(ctx, ns)
}

// osvMaven is an OSV Maven advisory as feed/osv stores it.
func osvMaven(pkg, name string, ranges ...vuln.Range) *vuln.Advisory {
	return &vuln.Advisory{Feed: "osv", Namespace: "maven", Package: pkg, Name: name, VersionFormat: "maven",
		State: vuln.StateAffected, Ranges: ranges, FixedIn: ranges[0].Fixed, NormalizedSeverity: vuln.Critical,
		Description: "d " + name}
}

func replaceOSV(t *testing.T, st *sqlite.Store, fp string, advs ...*vuln.Advisory) {
	t.Helper()
	_, err := st.ReplaceFeed(t.Context(), "osv", fp, func(emit func(*vuln.Advisory) error) error {
		for _, a := range advs {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupRecovery: a jar without META-INF/maven names only its artifact.
// Spring4Shell's ranges and the groups publishing commons-io are osv.dev's
// (GHSA-36p3-wjmg-h94x; commons-io, org.apache.commons and
// org.checkerframework.annotatedlib in the Maven export).
func TestGroupRecovery(t *testing.T) {
	raw, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	spring := osvMaven("org.springframework:spring-beans", "GHSA-36p3-wjmg-h94x",
		vuln.Range{Introduced: "0", Fixed: "5.2.20.RELEASE"}, vuln.Range{Introduced: "5.3.0", Fixed: "5.3.18"})
	advs := []*vuln.Advisory{spring}
	for _, g := range []string{"commons-io", "org.apache.commons", "org.checkerframework.annotatedlib"} {
		advs = append(advs, osvMaven(g+":commons-io", "GHSA-gwrp-pvrq-jmwv", vuln.Range{Introduced: "0", Fixed: "2.7"}))
	}
	replaceOSV(t, raw, "fp1", advs...)
	st := &countingStore{Store: raw}

	ir := &vuln.IndexReport{ManifestHash: "sha256:spring", Packages: map[string]*vuln.Package{
		"1": {ID: "1", Name: "spring-beans", Version: "4.3.30.RELEASE", Ecosystem: "maven", Kind: vuln.KindBinary,
			Purl: "pkg:maven/spring-beans@4.3.30.RELEASE", Path: "usr/share/java/spring3-beans-3.x.jar"},
		"2": {ID: "2", Name: "commons-io", Version: "2.6", Ecosystem: "maven", Kind: vuln.KindBinary,
			Path: "usr/share/java/commons-io.jar"},
		"3": {ID: "3", Name: "spring-beans", Version: "5.3.18", Ecosystem: "maven", Kind: vuln.KindBinary},
	}}
	var logs bytes.Buffer
	m := &match.Matcher{Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	vr, err := m.Match(t.Context(), ir)
	if err != nil {
		t.Fatal(err)
	}
	if got := vulnNames(vr, "1"); len(got) != 1 || got[0] != "GHSA-36p3-wjmg-h94x" {
		t.Errorf("spring-beans 4.3.30.RELEASE without a group: %v, want Spring4Shell", got)
	}
	if p := vr.Packages["1"]; p.Name != "org.springframework:spring-beans" || p.Purl != "pkg:maven/org.springframework/spring-beans@4.3.30.RELEASE" {
		t.Errorf("report's package: %q %q, want the recovered group", p.Name, p.Purl)
	}
	if got := vulnNames(vr, "3"); len(got) != 0 {
		t.Errorf("spring-beans 5.3.18 (the fix): %v", got)
	}
	if ir.Packages["1"].Name != "spring-beans" {
		t.Errorf("the index report changed: %q", ir.Packages["1"].Name)
	}
	if got := vulnNames(vr, "2"); len(got) != 0 || vr.Packages["2"].Name != "commons-io" {
		t.Errorf("commons-io, published by three groups: matched %v as %q", got, vr.Packages["2"].Name)
	}
	for _, want := range []string{"several groups publish it", "artifact=commons-io",
		`groups="commons-io, org.apache.commons, org.checkerframework.annotatedlib"`, "path=usr/share/java/commons-io.jar"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("warning lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "spring-beans") {
		t.Errorf("warning about a unique artifact:\n%s", logs.String())
	}

	// The map is read once per feed generation.
	if _, err := m.Match(t.Context(), ir); err != nil {
		t.Fatal(err)
	}
	if st.reads != 1 {
		t.Errorf("%d PackageNames reads for two matches on the same data, want 1", st.reads)
	}
	// A new snapshot where a second group publishes spring-beans: ambiguous.
	replaceOSV(t, raw, "fp2", append(advs, osvMaven("com.example:spring-beans", "GHSA-x", vuln.Range{Introduced: "0", Fixed: "9"}))...)
	logs.Reset()
	vr, err = m.Match(t.Context(), ir)
	if err != nil {
		t.Fatal(err)
	}
	if got := vulnNames(vr, "1"); len(got) != 0 || st.reads != 2 {
		t.Errorf("after a second group appeared: %v (%d reads)", got, st.reads)
	}
	if !strings.Contains(logs.String(), `groups="com.example, org.springframework"`) {
		t.Errorf("no warning for the now ambiguous spring-beans:\n%s", logs.String())
	}
}

func vulnNames(vr *vuln.VulnerabilityReport, pkgID string) []string {
	var out []string
	for _, id := range vr.PackageVulnerabilities[pkgID] {
		out = append(out, vr.Vulnerabilities[id].Name)
	}
	return out
}

func TestArtifactGroups(t *testing.T) {
	got := match.ArtifactGroups([]string{"b:x", "a:x", "a:x", "c:y", "nogroup", ":z", "g:"})
	if len(got) != 2 || strings.Join(got["x"], ",") != "a,b" || strings.Join(got["y"], ",") != "c" {
		t.Errorf("ArtifactGroups = %v", got)
	}
}

// FuzzArtifactGroups: any names (a feed's package names are its publisher's
// choice) give sorted, distinct, non-empty groups under non-empty artifacts.
func FuzzArtifactGroups(f *testing.F) {
	f.Add("org.springframework:spring-beans\ncommons-io:commons-io\norg.apache.commons:commons-io")
	f.Add("::\n:a\nb:\na:b:c")
	f.Fuzz(func(t *testing.T, s string) {
		for a, gs := range match.ArtifactGroups(strings.Split(s, "\n")) {
			if a == "" || len(gs) == 0 {
				t.Fatalf("artifact %q: groups %q", a, gs)
			}
			for i, g := range gs {
				if g == "" || strings.Contains(g, ":") || i > 0 && gs[i-1] >= g {
					t.Fatalf("artifact %q: groups %q", a, gs)
				}
			}
		}
	})
}
