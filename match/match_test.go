package match

import (
	"context"
	"testing"

	"github.com/openclair/clair/store"
	_ "github.com/openclair/clair/version/apk"
	_ "github.com/openclair/clair/version/deb"
	"github.com/openclair/clair/vuln"
)

// memStore serves advisories from a slice: the matcher's logic is tested
// here; the real stores are tested with the real feeds elsewhere.
type memStore struct{ advs []*vuln.Advisory }

func (m *memStore) Advisories(_ context.Context, ns string, pkgs []string) ([]*vuln.Advisory, error) {
	want := map[string]bool{}
	for _, p := range pkgs {
		want[p] = true
	}
	var out []*vuln.Advisory
	for _, a := range m.advs {
		if a.Namespace == ns && want[a.Package] {
			c := *a
			c.Description = ""
			out = append(out, &c)
		}
	}
	return out, nil
}

func (m *memStore) Details(_ context.Context, advs []*vuln.Advisory) error {
	for _, a := range advs {
		for _, b := range m.advs {
			if a.Feed == b.Feed && a.Name == b.Name {
				a.Description = b.Description
			}
		}
	}
	return nil
}

func debianReport(pkgs ...*vuln.Package) *vuln.IndexReport {
	ir := &vuln.IndexReport{
		ManifestHash:  "sha256:test",
		Packages:      map[string]*vuln.Package{},
		Distributions: map[string]*vuln.Distribution{"1": {ID: "1", DID: "debian", VersionID: "11", VersionCodeName: "bullseye"}},
		Environments:  map[string][]*vuln.Environment{},
	}
	for i, p := range pkgs {
		id := string(rune('a' + i))
		p.ID = id
		ir.Packages[id] = p
		ir.Environments[id] = []*vuln.Environment{{PackageDB: "var/lib/dpkg/status", DistributionID: "1"}}
	}
	return ir
}

func names(vr *vuln.VulnerabilityReport, pkgID string) []string {
	var out []string
	for _, id := range vr.PackageVulnerabilities[pkgID] {
		out = append(out, vr.Vulnerabilities[id].Name)
	}
	return out
}

func TestDebianBySourcePackage(t *testing.T) {
	// bsdutils is built from util-linux: the tracker speaks of util-linux,
	// and the source version is what its fixed_version compares with.
	bsdutils := &vuln.Package{Name: "bsdutils", Version: "1:2.36.1-8+deb11u1", Ecosystem: "dpkg", Kind: vuln.KindBinary,
		Source: &vuln.Package{Name: "util-linux", Version: "2.36.1-8+deb11u1", Kind: vuln.KindSource}}
	st := &memStore{advs: []*vuln.Advisory{
		{Feed: "debian", Name: "CVE-2021-3995", Namespace: "debian:11", Package: "util-linux", VersionFormat: "dpkg", State: vuln.StateAffected,
			Ranges: []vuln.Range{{Fixed: "2.36.1-8+deb11u2"}}, FixedIn: "2.36.1-8+deb11u2", NormalizedSeverity: vuln.Low, Description: "d"},
		{Feed: "debian", Name: "CVE-2000-0001", Namespace: "debian:11", Package: "util-linux", VersionFormat: "dpkg", State: vuln.StateAffected,
			Ranges: []vuln.Range{{Fixed: "2.36.1-8+deb11u1"}}, FixedIn: "2.36.1-8+deb11u1"},
		{Feed: "debian", Name: "CVE-2000-0002", Namespace: "debian:11", Package: "util-linux", VersionFormat: "dpkg", State: vuln.StateNotAffected},
		{Feed: "debian", Name: "CVE-2022-0563", Namespace: "debian:11", Package: "util-linux", VersionFormat: "dpkg", State: vuln.StateUnfixed,
			Severity: "unimportant", NormalizedSeverity: vuln.Negligible},
		{Feed: "debian", Name: "CVE-2099-0001", Namespace: "debian:12", Package: "util-linux", VersionFormat: "dpkg", State: vuln.StateUnfixed},
		{Feed: "alpine", Name: "CVE-2099-0002", Namespace: "debian:11", Package: "util-linux", VersionFormat: "apk", State: vuln.StateUnfixed},
	}}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), debianReport(bsdutils))
	if err != nil {
		t.Fatal(err)
	}
	got := names(vr, "a")
	want := []string{"CVE-2021-3995", "CVE-2022-0563"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, id := range vr.PackageVulnerabilities["a"] {
		v := vr.Vulnerabilities[id]
		switch v.Name {
		case "CVE-2021-3995":
			if v.FixedInVersion != "2.36.1-8+deb11u2" || v.Description != "d" || v.Package.Name != "util-linux" {
				t.Errorf("CVE-2021-3995: %+v", v)
			}
		case "CVE-2022-0563":
			if v.FixedInVersion != "" || v.State != "unfixed" || v.NormalizedSeverity != vuln.Negligible {
				t.Errorf("CVE-2022-0563: %+v", v)
			}
		}
	}
}

func TestAlpineByOrigin(t *testing.T) {
	ssl := &vuln.Package{Name: "libssl3", Version: "3.1.7-r0", Ecosystem: "apk", Source: &vuln.Package{Name: "openssl", Version: "3.1.7-r0"}}
	ir := debianReport(ssl)
	ir.Distributions["1"] = &vuln.Distribution{ID: "1", DID: "alpine", VersionID: "3.18.9"}
	st := &memStore{advs: []*vuln.Advisory{
		{Feed: "alpine", Name: "CVE-2024-9143", Namespace: "alpine:v3.18", Package: "openssl", VersionFormat: "apk", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "3.1.7-r1"}}, FixedIn: "3.1.7-r1"},
		{Feed: "alpine", Name: "CVE-2023-0001", Namespace: "alpine:v3.18", Package: "openssl", VersionFormat: "apk", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "3.1.0-r0"}}, FixedIn: "3.1.0-r0"},
		{Feed: "alpine", Name: "CVE-2023-0002", Namespace: "alpine:v3.18", Package: "openssl", VersionFormat: "apk", State: vuln.StateNotAffected},
	}}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), ir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vr, "a"); len(got) != 1 || got[0] != "CVE-2024-9143" {
		t.Fatalf("got %v", got)
	}
}

func TestUbuntuProFillsGaps(t *testing.T) {
	libc := &vuln.Package{Name: "libc6", Version: "2.31-0ubuntu9.2", Ecosystem: "dpkg", Source: &vuln.Package{Name: "glibc", Version: "2.31-0ubuntu9.2"}}
	ir := debianReport(libc)
	ir.Distributions["1"] = &vuln.Distribution{ID: "1", DID: "ubuntu", VersionID: "20.04"}
	st := &memStore{advs: []*vuln.Advisory{
		// Only Pro speaks of this one: reported.
		{Feed: "ubuntu", Name: "CVE-2016-20013", Namespace: "ubuntu-pro:20.04", Package: "glibc", VersionFormat: "dpkg", State: vuln.StateUnfixed, Ranges: []vuln.Range{{}}},
		// Standard says fixed before the installed version; Pro's later
		// fix for the same CVE does not override it.
		{Feed: "ubuntu", Name: "CVE-2021-0001", Namespace: "ubuntu:20.04", Package: "glibc", VersionFormat: "dpkg", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "2.31-0ubuntu9.1"}}, FixedIn: "2.31-0ubuntu9.1"},
		{Feed: "ubuntu", Name: "CVE-2021-0001", Namespace: "ubuntu-pro:20.04", Package: "glibc", VersionFormat: "dpkg", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "2.31-0ubuntu9.2+esm1"}}, FixedIn: "2.31-0ubuntu9.2+esm1"},
		// Explicit versions list.
		{Feed: "ubuntu", Name: "CVE-2021-0002", Namespace: "ubuntu:20.04", Package: "glibc", VersionFormat: "dpkg", State: vuln.StateAffected, Versions: []string{"2.31-0ubuntu9.2"}, Ranges: []vuln.Range{{Introduced: "2.32", Fixed: "2.33"}}, FixedIn: "2.33"},
	}}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), ir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, n := range names(vr, "a") {
		got[n] = true
	}
	if !got["CVE-2016-20013"] || got["CVE-2021-0001"] || !got["CVE-2021-0002"] || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
}

func TestRanges(t *testing.T) {
	s, _ := lookup(t, "dpkg")
	cases := []struct {
		r    vuln.Range
		v    string
		want bool
	}{
		{vuln.Range{Introduced: "1.0", Fixed: "2.0"}, "1.5", true},
		{vuln.Range{Introduced: "1.0", Fixed: "2.0"}, "2.0", false},
		{vuln.Range{Introduced: "1.0", Fixed: "2.0"}, "0.9", false},
		{vuln.Range{LastAffected: "2.0"}, "2.0", true},
		{vuln.Range{LastAffected: "2.0"}, "2.0-1", false},
		{vuln.Range{Introduced: "0"}, "9", true},
		{vuln.Range{Fixed: "garbage version!"}, "1.0", false},
	}
	for _, c := range cases {
		v, err := s.Parse(c.v)
		if err != nil {
			t.Fatal(err)
		}
		a := &vuln.Advisory{State: vuln.StateAffected, VersionFormat: "dpkg", Ranges: []vuln.Range{c.r}}
		if got := Affected(v, a); got != c.want {
			t.Errorf("%+v contains %s = %v, want %v", c.r, c.v, got, c.want)
		}
	}
}

// genStore counts reads and reports a generation, so the matcher caches.
type genStore struct {
	memStore
	op    string
	reads int
}

func (g *genStore) Advisories(ctx context.Context, ns string, pkgs []string) ([]*vuln.Advisory, error) {
	g.reads++
	return g.memStore.Advisories(ctx, ns, pkgs)
}

func (g *genStore) FeedStates(context.Context) ([]store.FeedState, error) {
	return []store.FeedState{{Feed: "debian", Operation: g.op}}, nil
}

func TestCacheFollowsFeedChanges(t *testing.T) {
	pkg := &vuln.Package{Name: "bsdutils", Version: "1:2.36.1-8+deb11u1", Ecosystem: "dpkg", Source: &vuln.Package{Name: "util-linux", Version: "2.36.1-8+deb11u1"}}
	st := &genStore{op: "1", memStore: memStore{advs: []*vuln.Advisory{
		{Feed: "debian", Name: "CVE-1", Namespace: "debian:11", Package: "util-linux", VersionFormat: "dpkg", State: vuln.StateUnfixed, Description: "first"},
	}}}
	m := &Matcher{Store: st}
	ctx := context.Background()
	for range 3 {
		vr, err := m.Match(ctx, debianReport(pkg))
		if err != nil {
			t.Fatal(err)
		}
		if got := names(vr, "a"); len(got) != 1 || vr.Vulnerabilities[vr.PackageVulnerabilities["a"][0]].Description != "first" {
			t.Fatalf("got %v", got)
		}
	}
	if st.reads != 1 {
		t.Errorf("%d store reads for three matches of an unchanged feed, want 1", st.reads)
	}
	// A new snapshot: the next match sees it.
	st.op = "2"
	st.advs = []*vuln.Advisory{{Feed: "debian", Name: "CVE-2", Namespace: "debian:11", Package: "util-linux", VersionFormat: "dpkg", State: vuln.StateUnfixed}}
	vr, err := m.Match(ctx, debianReport(pkg))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vr, "a"); len(got) != 1 || got[0] != "CVE-2" {
		t.Fatalf("after the feed changed: %v", got)
	}
}

func TestFeedName(t *testing.T) {
	for in, want := range map[string]string{"Flask_SQLAlchemy": "flask-sqlalchemy", "zope.interface": "zope-interface", "requests": "requests", "a--_b": "a-b"} {
		if got := feedName("pypi", in); got != want {
			t.Errorf("feedName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := feedName("npm", "@Babel/Core"); got != "@Babel/Core" {
		t.Errorf("npm names are kept as written, got %q", got)
	}
}
