package match

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/openclair/clair/feed/repo2cpe"
	"github.com/openclair/clair/scanner/rhel"
	_ "github.com/openclair/clair/version/rpm"
	"github.com/openclair/clair/vuln"
)

// rhelReport is a RHEL 9 image whose packages may point at repositories.
func rhelReport(repos map[string]*vuln.Repository, pkgs ...*vuln.Package) *vuln.IndexReport {
	ir := debianReport(pkgs...)
	ir.Distributions["1"] = &vuln.Distribution{ID: "1", DID: "rhel", VersionID: "9.4"}
	ir.Repositories = repos
	for id := range ir.Packages {
		ir.Environments[id][0].PackageDB = "var/lib/rpm/rpmdb.sqlite"
	}
	return ir
}

func rpmPkg(name, ver, arch, src, srcVer string) *vuln.Package {
	p := &vuln.Package{Name: name, Version: ver, Arch: arch, Ecosystem: "rpm", Kind: vuln.KindBinary}
	if src != "" {
		p.Source = &vuln.Package{Name: src, Version: srcVer, Kind: vuln.KindSource}
	}
	return p
}

// fixedAdv is a Red Hat style statement about a binary build.
func fixedAdv(name, pkg, fixed string, arches []string, repos ...string) *vuln.Advisory {
	return &vuln.Advisory{Feed: "redhat", Name: name, Namespace: "rhel:9", Package: pkg, VersionFormat: "rpm",
		State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: fixed}}, FixedIn: fixed, Arches: arches, Repositories: repos}
}

func found(t *testing.T, vr *vuln.VulnerabilityReport, pkgID string) map[string]*vuln.Vulnerability {
	t.Helper()
	out := map[string]*vuln.Vulnerability{}
	for _, id := range vr.PackageVulnerabilities[pkgID] {
		v := vr.Vulnerabilities[id]
		if _, dup := out[v.Name]; dup {
			t.Errorf("package %s: %s reported twice", pkgID, v.Name)
		}
		out[v.Name] = v
	}
	return out
}

func TestArches(t *testing.T) {
	x86 := rpmPkg("libcurl", "7.76.1-14.el9", "x86_64", "curl", "7.76.1-14.el9")
	s390 := rpmPkg("libcurl", "7.76.1-14.el9", "s390x", "curl", "7.76.1-14.el9")
	tz := rpmPkg("tzdata", "2022a-1.el9_0", "noarch", "tzdata", "2022a-1.el9_0")
	st := &memStore{advs: []*vuln.Advisory{
		fixedAdv("CVE-1", "libcurl", "0:7.76.1-26.el9_3.2", []string{"x86_64", "aarch64"}),
		fixedAdv("CVE-2", "libcurl", "0:7.76.1-26.el9_3.2", nil),
		fixedAdv("CVE-3", "tzdata", "0:2023c-1.el9", []string{"noarch"}),
		fixedAdv("CVE-4", "tzdata", "0:2023c-1.el9", []string{"x86_64"}),
	}}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), rhelReport(nil, x86, s390, tz))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vr, "a"); !slices.Equal(got, []string{"CVE-1", "CVE-2"}) {
		t.Errorf("x86_64: got %v", got)
	}
	if got := names(vr, "b"); !slices.Equal(got, []string{"CVE-2"}) {
		t.Errorf("s390x: got %v", got)
	}
	// A noarch package runs on every machine: Oracle's OVAL names the
	// machine's architecture (x86_64) for its noarch subpackages too.
	if got := names(vr, "c"); !slices.Equal(got, []string{"CVE-3", "CVE-4"}) {
		t.Errorf("noarch: got %v", got)
	}
}

func TestModule(t *testing.T) {
	plain := rpmPkg("nodejs", "1:16.14.0-1.el9", "x86_64", "nodejs", "1:16.14.0-1.el9")
	mod := rpmPkg("nodejs", "1:18.14.0-1.module+el9.1.0", "x86_64", "nodejs", "1:18.14.0-1.module+el9.1.0")
	mod.Module = "nodejs:18"
	m := func(name, module string) *vuln.Advisory {
		a := fixedAdv(name, "nodejs", "1:99-1", nil)
		a.Module = module
		return a
	}
	st := &memStore{advs: []*vuln.Advisory{m("CVE-none", ""), m("CVE-18", "nodejs:18"), m("CVE-20", "nodejs:20")}}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), rhelReport(nil, plain, mod))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vr, "a"); !slices.Equal(got, []string{"CVE-none"}) {
		t.Errorf("no module: got %v", got)
	}
	if got := names(vr, "b"); !slices.Equal(got, []string{"CVE-18"}) {
		t.Errorf("nodejs:18: got %v", got)
	}
}

func TestRepositories(t *testing.T) {
	repos := map[string]*vuln.Repository{
		"1": {ID: "1", Name: "rhel-9-for-x86_64-baseos-rpms", Key: "rhel-cpe-repository", CPE: "cpe:/o:redhat:enterprise_linux:9::baseos"},
		"2": {ID: "2", Name: "rhel-9-for-x86_64-appstream-rpms", Key: "rhel-cpe-repository", CPE: "cpe:/a:redhat:enterprise_linux:9::appstream"},
	}
	curl := rpmPkg("curl", "7.76.1-14.el9", "x86_64", "curl", "7.76.1-14.el9")
	st := &memStore{advs: []*vuln.Advisory{
		fixedAdv("CVE-main", "curl", "0:7.76.1-26.el9_3.2", nil, "cpe:/o:redhat:enterprise_linux:9::baseos"),
		fixedAdv("CVE-eus", "curl", "0:7.76.1-14.el9_0.9", nil, "cpe:/o:redhat:rhel_eus:9.0::baseos"),
		fixedAdv("CVE-release", "curl", "0:7.76.1-26.el9_3.2", nil, "cpe:/o:redhat:enterprise_linux:9"),
		fixedAdv("CVE-appstream-wide", "curl", "0:7.76.1-26.el9_3.2", nil, "cpe:/o:redhat:enterprise_linux:9"),
		fixedAdv("CVE-openshift", "curl", "0:7.76.1-26.el9_3.2", nil, "cpe:/a:redhat:openshift:4"),
	}}
	// Environment links the package to the BaseOS repository only.
	ir := rhelReport(repos, curl)
	ir.Environments["a"][0].RepositoryIDs = []string{"1"}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), ir)
	if err != nil {
		t.Fatal(err)
	}
	got := found(t, vr, "a")
	for _, want := range []string{"CVE-main", "CVE-release", "CVE-appstream-wide"} {
		if got[want] == nil {
			t.Errorf("%s not reported", want)
		}
	}
	for _, not := range []string{"CVE-eus", "CVE-openshift"} {
		if got[not] != nil {
			t.Errorf("%s reported for a package of another repository", not)
		}
	}

	// Without environment links the image's repositories stand in; without
	// any repository at all every statement applies.
	ir = rhelReport(repos, rpmPkg("curl", "7.76.1-14.el9", "x86_64", "curl", "7.76.1-14.el9"))
	vr, _ = (&Matcher{Store: st}).Match(context.Background(), ir)
	if got := found(t, vr, "a"); got["CVE-eus"] != nil || got["CVE-main"] == nil {
		t.Errorf("image repositories: got %v", got)
	}
	ir = rhelReport(nil, rpmPkg("curl", "7.76.1-1.el9", "x86_64", "curl", "7.76.1-1.el9"))
	vr, _ = (&Matcher{Store: st}).Match(context.Background(), ir)
	if got := found(t, vr, "a"); len(got) != 5 {
		t.Errorf("no repository information: got %d findings, want all 5", len(got))
	}
}

func TestCPECovers(t *testing.T) {
	for _, tc := range []struct {
		adv, pkg string
		want     bool
	}{
		{"cpe:/o:redhat:enterprise_linux:9::baseos", "cpe:/o:redhat:enterprise_linux:9::baseos", true},
		{"cpe:/o:redhat:enterprise_linux:9", "cpe:/a:redhat:enterprise_linux:9::appstream", true},
		{"cpe:/o:redhat:enterprise_linux:9::baseos", "cpe:/a:redhat:enterprise_linux:9::appstream", false},
		{"cpe:/o:redhat:enterprise_linux:8", "cpe:/o:redhat:enterprise_linux:9::baseos", false},
		{"cpe:/a:redhat:openshift:4", "cpe:/a:redhat:openshift:4.13::el8", true},
		{"cpe:/a:redhat:openshift:4", "cpe:/a:redhat:openshift:41::el8", false},
		{"cpe:/a:redhat:rhel_eus:9.2::appstream", "cpe:/a:redhat:enterprise_linux:9::appstream", false},
		{"cpe:/a:redhat:rhel_eus:9.*", "cpe:/a:redhat:rhel_eus:9.2::appstream", true},
		{"cpe:2.3:o:redhat:enterprise_linux:9:*:*:*:*:*:*:*", "cpe:/o:redhat:enterprise_linux:9::baseos", true},
		{"not a cpe", "cpe:/o:redhat:enterprise_linux:9", false},
	} {
		if got := cpeCovers(tc.adv, tc.pkg); got != tc.want {
			t.Errorf("cpeCovers(%q, %q) = %v, want %v", tc.adv, tc.pkg, got, tc.want)
		}
	}
}

// TestBinaryAndSourceNames: fixes are stated per binary rpm, unfixed CVEs
// per source component; a package is found through both, once per CVE, with
// the highest fix of the release.
func TestBinaryAndSourceNames(t *testing.T) {
	libcurl := rpmPkg("libcurl", "7.76.1-14.el9", "x86_64", "curl", "7.76.1-14.el9")
	unfixed := &vuln.Advisory{Feed: "redhat", Name: "CVE-unfixed", Namespace: "rhel:9", Package: "curl", VersionFormat: "rpm", State: vuln.StateUnfixed}
	wontfix := &vuln.Advisory{Feed: "redhat", Name: "CVE-wontfix", Namespace: "rhel:9", Package: "curl", VersionFormat: "rpm", State: vuln.StateWontFix}
	notaff := &vuln.Advisory{Feed: "redhat", Name: "CVE-notaffected", Namespace: "rhel:9", Package: "curl", VersionFormat: "rpm", State: vuln.StateNotAffected}
	st := &memStore{advs: []*vuln.Advisory{
		unfixed, wontfix, notaff,
		// The same fix stated for the binary and, by arch, for the source
		// rpm: only the binary statement applies.
		fixedAdv("CVE-fixed", "libcurl", "0:7.76.1-23.el9_2.4", []string{"x86_64"}),
		fixedAdv("CVE-fixed", "libcurl", "0:7.76.1-26.el9_3.2", []string{"x86_64"}),
		fixedAdv("CVE-fixed", "curl", "0:7.76.1-26.el9_3.2", []string{"src"}),
		// A binary statement for the source's own binary never reaches
		// libcurl through the source name.
		fixedAdv("CVE-curl-only", "curl", "0:7.76.1-26.el9_3.2", []string{"x86_64"}),
	}}
	vr, err := (&Matcher{Store: st}).Match(context.Background(), rhelReport(nil, libcurl))
	if err != nil {
		t.Fatal(err)
	}
	got := found(t, vr, "a")
	if len(got) != 3 {
		t.Errorf("got %d findings, want CVE-fixed, CVE-unfixed, CVE-wontfix: %v", len(got), got)
	}
	if v := got["CVE-fixed"]; v == nil || v.FixedInVersion != "0:7.76.1-26.el9_3.2" || v.State != "affected" {
		t.Errorf("CVE-fixed: %+v", v)
	}
	if v := got["CVE-unfixed"]; v == nil || v.FixedInVersion != "" || v.State != "unfixed" {
		t.Errorf("CVE-unfixed: %+v", v)
	}
	if v := got["CVE-wontfix"]; v == nil || v.FixedInVersion != "" || v.State != "will_not_fix" {
		t.Errorf("CVE-wontfix: %+v", v)
	}
}

// countingStore counts the store queries per namespace and can fail them.
type countingStore struct {
	memStore
	queries map[string]int
	fail    error
}

func (c *countingStore) Advisories(ctx context.Context, ns string, pkgs []string) ([]*vuln.Advisory, error) {
	if c.queries == nil {
		c.queries = map[string]int{}
	}
	c.queries[ns]++
	if c.fail != nil {
		return nil, c.fail
	}
	return c.memStore.Advisories(ctx, ns, pkgs)
}

// mappingRow is a row of the redhat-repo2cpe feed: content set cs maps to
// cpes.
func mappingRow(cs string, cpes ...string) *vuln.Advisory {
	return &vuln.Advisory{Feed: repo2cpe.Name, Name: cs, Namespace: repo2cpe.Namespace, Package: cs,
		VersionFormat: "rpm", State: vuln.StateNotAffected, Repositories: cpes}
}

// TestContentSetMapping: the CPEs of a Red Hat content set come from the
// redhat-repo2cpe feed's rows at match time when it has any, from the index
// report otherwise.
func TestContentSetMapping(t *testing.T) {
	const (
		baseos    = "rhel-9-for-x86_64-baseos-rpms"
		appstream = "rhel-9-for-x86_64-appstream-rpms"
		newSet    = "rhel-9-for-x86_64-new-rpms"
	)
	advs := []*vuln.Advisory{
		fixedAdv("CVE-main", "curl", "0:7.76.1-26.el9_3.2", nil, "cpe:/o:redhat:enterprise_linux:9::baseos"),
		fixedAdv("CVE-eus", "curl", "0:7.76.1-14.el9_0.9", nil, "cpe:/o:redhat:rhel_eus:9.0::baseos"),
		fixedAdv("CVE-appstream", "curl", "0:7.76.1-26.el9_3.2", nil, "cpe:/a:redhat:enterprise_linux:9::appstream"),
		fixedAdv("CVE-new", "curl", "0:7.76.1-26.el9_3.2", nil, "cpe:/a:redhat:new_product:1"),
	}
	report := func(linked ...string) *vuln.IndexReport {
		repos := map[string]*vuln.Repository{
			"1": {ID: "1", Name: baseos, Key: rhel.RepositoryKey, CPE: "cpe:/o:redhat:enterprise_linux:9::baseos"},
			"2": {ID: "2", Name: appstream, Key: rhel.RepositoryKey, CPE: "cpe:/a:redhat:enterprise_linux:9::appstream"},
			"3": {ID: "3", Name: newSet, Key: rhel.RepositoryKey}, // unknown to the embedded mapping
		}
		ir := rhelReport(repos, rpmPkg("curl", "7.76.1-14.el9", "x86_64", "curl", "7.76.1-14.el9"))
		ir.Environments["a"][0].RepositoryIDs = linked
		return ir
	}
	for _, tc := range []struct {
		name   string
		rows   []*vuln.Advisory
		linked []string
		want   []string
	}{
		{"no feed rows: recorded CPEs", nil, []string{"1"}, []string{"CVE-main"}},
		{"feed remaps the content set", []*vuln.Advisory{mappingRow(baseos, "cpe:/o:redhat:rhel_eus:9.0::baseos")},
			[]string{"1"}, []string{"CVE-eus"}},
		{"feed rows are a union", []*vuln.Advisory{
			mappingRow(baseos, "cpe:/o:redhat:rhel_eus:9.0::baseos"),
			mappingRow(baseos, "cpe:/o:redhat:enterprise_linux:9::baseos", "cpe:/o:redhat:rhel_eus:9.0::baseos")},
			[]string{"1"}, []string{"CVE-eus", "CVE-main"}},
		{"feed rows for other sets only", []*vuln.Advisory{mappingRow(appstream, "cpe:/a:redhat:new_product:1")},
			[]string{"1"}, []string{"CVE-main"}},
		{"set unknown at index time, known to the feed", []*vuln.Advisory{mappingRow(newSet, "cpe:/a:redhat:new_product:1")},
			[]string{"3"}, []string{"CVE-new"}},
		// Linked to a set nobody maps: the image's other sets stand in.
		{"set unknown to both", nil, []string{"3"}, []string{"CVE-appstream", "CVE-main"}},
		{"unlinked: every set of the image", []*vuln.Advisory{mappingRow(newSet, "cpe:/a:redhat:new_product:1")},
			nil, []string{"CVE-appstream", "CVE-main", "CVE-new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &countingStore{memStore: memStore{advs: append(slices.Clone(advs), tc.rows...)}}
			vr, err := (&Matcher{Store: st}).Match(context.Background(), report(tc.linked...))
			if err != nil {
				t.Fatal(err)
			}
			if got := names(vr, "a"); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if n := st.queries[repo2cpe.Namespace]; n != 1 {
				t.Errorf("%d mapping queries, want 1", n)
			}
		})
	}
}

// TestContentSetMappingCost: one mapping query per report however many
// packages, none for an image that is not RHEL or has no content sets, and
// a failing query fails the match.
func TestContentSetMappingCost(t *testing.T) {
	repos := map[string]*vuln.Repository{
		"1": {ID: "1", Name: "rhel-9-for-x86_64-baseos-rpms", Key: rhel.RepositoryKey, CPE: "cpe:/o:redhat:enterprise_linux:9::baseos"},
	}
	var pkgs []*vuln.Package
	for _, n := range []string{"curl", "bash", "openssl", "zlib"} {
		pkgs = append(pkgs, rpmPkg(n, "1-1.el9", "x86_64", n, "1-1.el9"))
	}
	st := &countingStore{memStore: memStore{advs: []*vuln.Advisory{mappingRow("rhel-9-for-x86_64-baseos-rpms", "cpe:/o:x")}}}
	if _, err := (&Matcher{Store: st}).Match(context.Background(), rhelReport(repos, pkgs...)); err != nil {
		t.Fatal(err)
	}
	if n := st.queries[repo2cpe.Namespace]; n != 1 {
		t.Errorf("RHEL image: %d mapping queries, want 1", n)
	}

	st = &countingStore{}
	if _, err := (&Matcher{Store: st}).Match(context.Background(), rhelReport(nil, rpmPkg("curl", "1-1.el9", "x86_64", "curl", "1-1.el9"))); err != nil {
		t.Fatal(err)
	}
	ir := debianReport(&vuln.Package{Name: "curl", Version: "1", Ecosystem: "dpkg"})
	ir.Repositories = repos
	if _, err := (&Matcher{Store: st}).Match(context.Background(), ir); err != nil {
		t.Fatal(err)
	}
	if n := st.queries[repo2cpe.Namespace]; n != 0 {
		t.Errorf("no content sets or not RHEL: %d mapping queries, want 0", n)
	}

	boom := errors.New("boom")
	st = &countingStore{fail: boom}
	if _, err := (&Matcher{Store: st}).Match(context.Background(), rhelReport(repos, pkgs...)); !errors.Is(err, boom) {
		t.Errorf("failing store: err = %v", err)
	}
}
