package oval

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseDoc parses one document named name (its file name matters for
// Mariner) and returns the advisories and stats.
func parseDoc(t testing.TB, d *Distro, name string, b []byte) ([]*vuln.Advisory, *Stats) {
	t.Helper()
	var snap bytes.Buffer
	tw := tar.NewWriter(&snap)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b))})
	tw.Write(b)
	tw.Close()
	var out []*vuln.Advisory
	st, err := New(d).ParseStats(context.Background(), bytes.NewReader(snap.Bytes()), int64(snap.Len()), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, st
}

func pick(as []*vuln.Advisory, name, pkg string) []*vuln.Advisory {
	var out []*vuln.Advisory
	for _, a := range as {
		if a.Name == name && a.Package == pkg {
			out = append(out, a)
		}
	}
	return out
}

func one(t *testing.T, as []*vuln.Advisory, name, pkg string) *vuln.Advisory {
	t.Helper()
	got := pick(as, name, pkg)
	if len(got) != 1 {
		t.Fatalf("%s %s: %d advisories", name, pkg, len(got))
	}
	return got[0]
}

func sharedPhoton(t testing.TB) []byte {
	p := filepath.Join("..", "..", "..", "shared", "testdata", "feeds", "photon", "com.vmware.phsa-photon3.xml")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data not available: %v", err)
	}
	return readFile(t, p)
}

// TestPhoton reads the complete Photon 3 OVAL file. 2467 is Σ over its 222
// definitions of (CVEs × "is earlier than" packages), counted separately
// with a DOM parser.
func TestPhoton(t *testing.T) {
	b := sharedPhoton(t)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	as, st := parseDoc(t, Photon, "com.vmware.phsa-photon3.xml", b)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	t.Logf("%d bytes, %d definitions → %d advisories in %v; %d MB allocated in total", len(b), st.Definitions, len(as), took, (after.TotalAlloc-before.TotalAlloc)>>20)
	if st.Definitions != 222 || len(as) != 2467 || len(st.Notes) != 0 {
		t.Errorf("definitions %d advisories %d notes %v", st.Definitions, len(as), st.Notes)
	}
	for _, a := range as {
		if a.Namespace != "photon:3.0" || a.VersionFormat != "rpm" || a.State != vuln.StateAffected || a.FixedIn == "" || !strings.HasPrefix(a.Aliases[0], "PHSA-") {
			t.Fatalf("%+v", a)
		}
	}
	// PHSA-2020:00001: sqlite, sqlite-devel, sqlite-libs earlier than
	// 0:3.27.2-5.ph3, CVE-2019-16168, Important, issued 2019-10-23.
	a := one(t, as, "CVE-2019-16168", "sqlite-libs")
	want := vuln.Advisory{
		Feed: "photon", Name: "CVE-2019-16168", Namespace: "photon:3.0", Package: "sqlite-libs", VersionFormat: "rpm",
		State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "3.27.2-5.ph3"}}, FixedIn: "3.27.2-5.ph3",
		Severity: "Important", NormalizedSeverity: vuln.High,
		Description: "This update upgrade sqlite to 3.27.2-5.ph3 #Fixes {'CVE-2019-16168'}",
		Links:       []string{"https://github.com/vmware/photon/wiki/Security-Updates-3.0-0036", "https://nvd.nist.gov/vuln/detail?vulnId=CVE-2019-16168"},
		Issued:      time.Date(2019, 10, 23, 0, 0, 0, 0, time.UTC),
		Aliases:     []string{"PHSA-2020:00001"},
	}
	if !reflect.DeepEqual(*a, want) {
		t.Errorf("got  %+v\nwant %+v", *a, want)
	}
}

func TestOracle(t *testing.T) {
	as, st := parseDoc(t, Oracle, "com.oracle.elsa-all.xml", readFile(t, "testdata/oracle-per-arch.xml"))
	// ELSA-2022-4803: rsyslog respun at different revisions per
	// architecture: one advisory per architecture.
	rs := pick(as, "CVE-2022-24903", "rsyslog")
	if len(rs) != 2 {
		t.Fatalf("rsyslog: %d", len(rs))
	}
	byArch := map[string]string{}
	for _, a := range rs {
		if len(a.Arches) != 1 || a.Namespace != "ol:7" || a.Aliases[0] != "ELSA-2022-4803" || a.NormalizedSeverity != vuln.High {
			t.Errorf("%+v", a)
		}
		byArch[a.Arches[0]] = a.FixedIn
	}
	if !reflect.DeepEqual(byArch, map[string]string{"aarch64": "8.24.0-57.0.4.el7_9.3", "x86_64": "8.24.0-57.0.1.el7_9.3"}) {
		t.Errorf("rsyslog fixes %v", byArch)
	}
	// ELSA-2025-10073: one firefox fix for both architectures: for all.
	ff := one(t, as, "CVE-2025-6429", "firefox")
	if ff.Arches != nil || ff.FixedIn != "128.12.0-1.0.1.el10_0" || ff.Namespace != "ol:10" {
		t.Errorf("firefox %+v", ff)
	}
	if n := len(pick(as, "CVE-2025-6424", "firefox")); n != 1 {
		t.Errorf("firefox CVE-2025-6424: %d", n)
	}
	// ELSA-2024-2961: osbuild "earlier than 0:110-1.0.1.el8" OR "earlier
	// than 0:110-1.el8" on both architectures: one advisory, the greater.
	ob := one(t, as, "CVE-2024-2307", "osbuild")
	if ob.Arches != nil || ob.FixedIn != "110-1.0.1.el8" || ob.Namespace != "ol:8" || ob.Severity != "MODERATE" {
		t.Errorf("osbuild %+v", ob)
	}
	if st.Notes["criterion whose test is missing read from its comment"] == 0 {
		t.Errorf("notes %v", st.Notes)
	}

	// ELSA-2007-0057, read from the bzip2 document Oracle serves.
	as, _ = parseDoc(t, Oracle, "com.oracle.elsa-all.xml.bz2", readFile(t, "testdata/oracle-elsa.xml.bz2"))
	b := one(t, as, "CVE-2007-0493", "bind-libs")
	if b.Namespace != "ol:5" || b.FixedIn != "30:9.3.3-8.el5" || b.Aliases[0] != "ELSA-2007-0057" || b.Issued.Format("2006-01-02") != "2007-06-26" {
		t.Errorf("bind-libs %+v", b)
	}
	if n := len(as); n != 8*2+6*4 {
		t.Errorf("%d advisories, want 40 (bind: 8 packages × 2 CVEs; kernel-uek: 6 × 4)", n)
	}

	// ELSA-2021-9151: ksplice-only fixes (release pattern "ksplice")
	// must not apply to ordinary builds.
	as, st = parseDoc(t, Oracle, "com.oracle.elsa-all.xml", readFile(t, "testdata/oracle-ksplice.xml"))
	if len(as) != 0 || st.Notes["version test limited to a release or version pattern"] == 0 && st.Notes["version or release pattern on a package"] == 0 {
		t.Errorf("ksplice: %d advisories, notes %v", len(as), st.Notes)
	}
}

func TestMariner(t *testing.T) {
	as, st := parseDoc(t, Mariner, "cbl-mariner-2.0-oval.xml", readFile(t, "testdata/cbl-mariner-2.0-oval.xml"))
	if len(as) != 5 || len(st.Notes) != 0 {
		t.Errorf("%d advisories, notes %v", len(as), st.Notes)
	}
	g := one(t, as, "CVE-2023-29404", "golang")
	if g.Namespace != "mariner:2.0" || !reflect.DeepEqual(g.Ranges, []vuln.Range{{Introduced: "1.19.0.cm2", Fixed: "1.20.7-1.cm2"}}) || g.State != vuln.StateAffected || g.NormalizedSeverity != vuln.Critical {
		t.Errorf("golang %+v", g)
	}
	if b := one(t, as, "CVE-2022-3736", "bind"); b.State != vuln.StateUnfixed || !reflect.DeepEqual(b.Ranges, []vuln.Range{{LastAffected: "9.16.33-1.cm2"}}) || b.FixedIn != "" {
		t.Errorf("bind %+v", b)
	}
	if gl := one(t, as, "CVE-2023-0687", "glibc"); gl.State != vuln.StateNotAffected {
		t.Errorf("glibc %+v", gl)
	}
	if m := one(t, as, "CVE-2023-21980", "mysql"); m.FixedIn != "8.0.33-1.cm2" || m.Issued.IsZero() {
		t.Errorf("mysql %+v", m)
	}
	as, _ = parseDoc(t, Mariner, "azurelinux-3.0-oval.xml", readFile(t, "testdata/azurelinux-3.0-oval.xml"))
	if c := one(t, as, "CVE-2020-27304", "ceph"); c.Namespace != "azurelinux:3.0" || c.FixedIn != "18.2.1-1.azl3" {
		t.Errorf("ceph %+v", c)
	}
	// Without its file name a Mariner document says no release.
	as, st = parseDoc(t, Mariner, "renamed.xml", readFile(t, "testdata/azurelinux-3.0-oval.xml"))
	if len(as) != 0 || st.Notes["package test without a release skipped"] == 0 {
		t.Errorf("renamed: %d advisories, notes %v", len(as), st.Notes)
	}
}

func TestSUSE(t *testing.T) {
	as, st := parseDoc(t, SUSE, "suse.linux.enterprise.server.15.xml", readFile(t, "testdata/suse-truncated.xml"))
	k := pick(as, "CVE-2021-29154", "kernel-default")
	byNS := map[string]string{}
	for _, a := range k {
		byNS[a.Namespace] = a.FixedIn
		if !reflect.DeepEqual(a.Arches, []string{"aarch64", "ppc64le", "s390x", "x86_64"}) || a.Severity != "Important" {
			t.Errorf("%+v", a)
		}
	}
	if !reflect.DeepEqual(byNS, map[string]string{"sles:15": "4.12.14-150.72.1", "sles:15.1": "4.12.14-197.89.2"}) {
		t.Errorf("kernel-default %v", byNS)
	}
	if a := one(t, as, "CVE-1999-0524", "kernel-default"); a.State != vuln.StateNotAffected || a.Namespace != "sles:15" {
		t.Errorf("not affected %+v", a)
	}
	// vunnel's authors wrote evr operation "6" into the krb5 states.
	if st.Notes[`evr operation "6"`] == 0 || len(pick(as, "CVE-2010-1323", "krb5")) != 0 {
		t.Errorf("krb5: notes %v", st.Notes)
	}
}

func TestReleases(t *testing.T) {
	for c, want := range map[string]string{
		"Oracle Linux 8 is installed":                                           "ol:8",
		"Photon OS 3 is installed":                                              "photon:3.0",
		"SUSE Linux Enterprise Server 15 SP5 is installed":                      "sles:15.5",
		"SUSE Linux Enterprise Server 15 is installed":                          "sles:15",
		"SUSE Linux Enterprise Server 15 SP1-LTSS is installed":                 "sles:15.1",
		"SUSE Linux Enterprise Server 12 SP2-BCL is installed":                  "sles:12.2",
		"SUSE Linux Enterprise Server for SAP Applications 15 SP4 is installed": "sles:15.4",
		"SUSE Linux Enterprise Module for Basesystem 15 SP3 is installed":       "sles:15.3",
		"SUSE Linux Enterprise Micro 5.3 is installed":                          "sles:5.3",
		"openSUSE Leap 15.5 is installed":                                       "opensuse-leap:15.5",
		"SUSE Linux Enterprise Workstation Extension 15 SP2 is installed":       "",
		"kernel-default is not affected":                                        "",
	} {
		got := ""
		for _, d := range []*Distro{Oracle, Photon, SUSE} {
			if ns, ok := d.release(c); ok {
				got = ns
			}
		}
		if got != want {
			t.Errorf("%q: %q, want %q", c, got, want)
		}
	}
	for f, want := range map[string]string{
		"cbl-mariner-2.0-oval.xml":    "mariner:2.0",
		"azurelinux-3.0-oval.xml":     "azurelinux:3.0",
		"com.vmware.phsa-photon5.xml": "photon:5.0",
		"com.oracle.elsa-ol9.xml.bz2": "ol:9",
	} {
		got := ""
		for _, d := range []*Distro{Oracle, Photon, Mariner} {
			if ns := d.fileNS(f); ns != "" {
				got = ns
			}
		}
		if got != want {
			t.Errorf("%s: %q, want %q", f, got, want)
		}
	}
}

// TestCriteria covers shapes the real files do not: unknown test kinds,
// negation, nested operators, uname tests and broken references.
func TestCriteria(t *testing.T) {
	doc := `<?xml version="1.0"?>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:l="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" xmlns:u="http://oval.mitre.org/XMLSchema/oval-definitions-5#unix">
<definitions>
 <definition id="d1" class="patch"><metadata><title>ELSA-2024-0001: x (CRITICAL)</title><advisory><severity>CRITICAL</severity><cve>CVE-2024-0001</cve></advisory></metadata>
  <criteria operator="AND">
   <criterion test_ref="rel" comment="Oracle Linux 9 is installed"/>
   <criterion test_ref="fam"/>
   <criterion test_ref="weird"/>
   <criteria operator="OR">
    <criteria><criterion test_ref="uname"/><criterion test_ref="a-lt"/></criteria>
    <criterion test_ref="b-lt" negate="true"/>
   </criteria>
  </criteria>
 </definition>
 <definition id="d2" class="inventory"><metadata><title>inventory</title></metadata><criteria><criterion test_ref="a-lt"/></criteria></definition>
 <definition id="d3" class="patch"><metadata><title>no cve</title></metadata>
  <criteria><criterion test_ref="rel" comment="Oracle Linux 9 is installed"/><criterion test_ref="var"/></criteria></definition>
</definitions>
<tests>
 <l:rpminfo_test id="a-lt"><l:object object_ref="oa"/><l:state state_ref="lt"/></l:rpminfo_test>
 <l:rpminfo_test id="b-lt"><l:object object_ref="ob"/><l:state state_ref="lt"/></l:rpminfo_test>
 <l:rpminfo_test id="var"><l:object object_ref="ov"/><l:state state_ref="lt"/></l:rpminfo_test>
 <u:uname_test id="uname"><u:object object_ref="un"/><u:state state_ref="x86"/></u:uname_test>
 <family_test id="fam"><object object_ref="f"/></family_test>
 <l:rpmverifyfile_test id="weird"><l:object object_ref="x"/></l:rpmverifyfile_test>
</tests>
<objects>
 <l:rpminfo_object id="oa"><l:name>a</l:name></l:rpminfo_object>
 <l:rpminfo_object id="ob"><l:name>b</l:name></l:rpminfo_object>
 <l:rpminfo_object id="ov"><l:name var_ref="v1"/></l:rpminfo_object>
</objects>
<states>
 <l:rpminfo_state id="lt"><l:evr datatype="evr_string" operation="less than">1:2.0-1.el9</l:evr></l:rpminfo_state>
 <u:uname_state id="x86"><u:processor_type operation="pattern match">^x86_64$</u:processor_type></u:uname_state>
</states>
</oval_definitions>`
	as, st := parseDoc(t, Oracle, "x.xml", []byte(doc))
	if len(as) != 2 {
		t.Fatalf("%d advisories: %+v", len(as), as)
	}
	a := one(t, as, "CVE-2024-0001", "a")
	if a.FixedIn != "1:2.0-1.el9" || !reflect.DeepEqual(a.Arches, []string{"x86_64"}) || a.NormalizedSeverity != vuln.Critical || a.Aliases[0] != "ELSA-2024-0001" {
		t.Errorf("a %+v", a)
	}
	// NOT (b < 1:2.0-1.el9): b from 1:2.0-1.el9 on, with no fix.
	b := one(t, as, "CVE-2024-0001", "b")
	if b.State != vuln.StateUnfixed || !reflect.DeepEqual(b.Ranges, []vuln.Range{{Introduced: "1:2.0-1.el9"}}) {
		t.Errorf("b %+v", b)
	}
	for _, n := range []string{"unknown test kind rpmverifyfile_test read as true", "definition of class inventory skipped", "rpminfo_object named by a variable"} {
		if st.Notes[n] == 0 {
			t.Errorf("note %q missing: %v", n, st.Notes)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"not xml":     "{}",
		"wrong root":  "<foo/>",
		"truncated":   `<oval_definitions><definitions><definition id="x"><criteria>`,
		"test no id":  `<oval_definitions><tests><rpminfo_test/></tests></oval_definitions>`,
		"bad charset": `<?xml version="1.0" encoding="EBCDIC"?><oval_definitions/>`,
		"bad gzip":    "\x1f\x8b\x08\x00garbage",
	} {
		err := New(Oracle).Parse(context.Background(), strings.NewReader(in), int64(len(in)), func(*vuln.Advisory) error { return nil })
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "oracle: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An emit error stops Parse and comes back.
	b := readFile(t, "testdata/oracle-elsa.xml")
	stop := errors.New("stop")
	if err := New(Oracle).Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(*vuln.Advisory) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit error: %v", err)
	}
}

// server serves files by path and counts requests; anything else is 404.
type server struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	mtime time.Time
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.files[r.URL.Path]
	s.hits[r.URL.Path]++
	mtime := s.mtime
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, "", mtime, bytes.NewReader(b))
}

func TestFetchHTTP(t *testing.T) {
	s := &server{files: map[string][]byte{
		"/oval/cbl-mariner-2.0-oval.xml":    readFile(t, "testdata/cbl-mariner-2.0-oval.xml"),
		"/oval/azurelinux-3.0-oval.xml":     readFile(t, "testdata/azurelinux-3.0-oval.xml"),
		"/elsa/com.oracle.elsa-all.xml.bz2": readFile(t, "testdata/oracle-elsa.xml.bz2"),
	}, hits: map[string]int{}, mtime: time.Unix(1700000000, 0)}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx := context.Background()

	// A directory: cbl-mariner-1.0 is absent (404) and skipped.
	f := New(Mariner)
	var snap bytes.Buffer
	fp, err := f.Fetch(ctx, srv.Client(), srv.URL+"/oval/", "", &snap)
	if err != nil {
		t.Fatal(err)
	}
	ns := map[string]int{}
	if err := f.Parse(ctx, bytes.NewReader(snap.Bytes()), int64(snap.Len()), func(a *vuln.Advisory) error { ns[a.Namespace]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ns, map[string]int{"mariner:2.0": 5, "azurelinux:3.0": 3}) {
		t.Errorf("namespaces %v", ns)
	}
	if _, err := f.Fetch(ctx, srv.Client(), srv.URL+"/oval/", fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Errorf("unchanged: %v", err)
	}
	// One document changes: the snapshot still holds both.
	s.mu.Lock()
	s.files["/oval/azurelinux-3.0-oval.xml"] = bytes.Replace(s.files["/oval/azurelinux-3.0-oval.xml"], []byte("3.4.0-1.azl3"), []byte("3.4.0-2.azl3"), -1)
	s.mtime = s.mtime.Add(time.Hour)
	s.mu.Unlock()
	snap.Reset()
	if _, err := f.Fetch(ctx, srv.Client(), srv.URL+"/oval/", fp, &snap); err != nil {
		t.Fatal(err)
	}
	docs, err := documents(bytes.NewReader(snap.Bytes()), int64(snap.Len()))
	if err != nil || len(docs) != 2 {
		t.Fatalf("%d documents, %v", len(docs), err)
	}

	// A single document URL, bzip2 as Oracle serves it.
	snap.Reset()
	if _, err := New(Oracle).Fetch(ctx, srv.Client(), srv.URL+"/elsa/com.oracle.elsa-all.xml.bz2", "", &snap); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := New(Oracle).Parse(ctx, bytes.NewReader(snap.Bytes()), int64(snap.Len()), func(*vuln.Advisory) error { n++; return nil }); err != nil || n != 40 {
		t.Errorf("oracle: %d advisories, %v", n, err)
	}
	// Nothing there.
	if _, err := New(Photon).Fetch(ctx, srv.Client(), srv.URL+"/photon/", "", io.Discard); err == nil {
		t.Error("empty directory: no error")
	}
}

func TestFetchLocal(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"cbl-mariner-2.0-oval.xml", "azurelinux-3.0-oval.xml"} {
		if err := os.WriteFile(filepath.Join(dir, n), readFile(t, filepath.Join("testdata", n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var snap bytes.Buffer
	fp, err := New(Mariner).Fetch(context.Background(), nil, "file://"+filepath.ToSlash(dir), "", &snap)
	if err != nil {
		t.Fatal(err)
	}
	if docs, _ := documents(bytes.NewReader(snap.Bytes()), int64(snap.Len())); len(docs) != 2 {
		t.Errorf("%d documents", len(docs))
	}
	if _, err := New(Mariner).Fetch(context.Background(), nil, dir, fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Errorf("unchanged: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	for name, url := range map[string]string{
		"oracle":  "https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2",
		"suse":    "https://ftp.suse.com/pub/projects/security/oval/",
		"photon":  "https://packages.vmware.com/photon/photon_oval_definitions/",
		"mariner": "https://raw.githubusercontent.com/microsoft/AzureLinuxVulnerabilityData/main/",
	} {
		f, ok := feed.Lookup(name)
		if !ok || f.DefaultURL() != url {
			t.Errorf("%s: registered %v, URL %q", name, ok, f.DefaultURL())
		}
	}
}

func BenchmarkPhoton(b *testing.B) {
	doc := sharedPhoton(b)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := New(Photon).ParseStats(context.Background(), bytes.NewReader(doc), int64(len(doc)), func(*vuln.Advisory) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	// Seeds: the real samples cut to their first definition, tests,
	// objects and states (small seeds keep the fuzzer mutating).
	for _, p := range []string{"testdata/cbl-mariner-2.0-oval.xml", "testdata/oracle-ksplice.xml", "testdata/suse-truncated.xml", "testdata/oracle-elsa.xml"} {
		b := readFile(f, p)
		if i, j := bytes.Index(b, []byte("</definition>")), bytes.Index(b, []byte("</definitions>")); i > 0 && j > i {
			b = append(append(b[:i+len("</definition>"):i+len("</definition>")], '\n'), b[j:]...)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, d := range []*Distro{Oracle, SUSE, Mariner} {
			fd := New(d)
			fd.Log = slog.New(slog.DiscardHandler)
			_ = fd.Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
				if a.Namespace == "" || a.Package == "" || a.Name == "" || a.VersionFormat != "rpm" {
					t.Fatalf("bad advisory %+v", a)
				}
				if a.State == vuln.StateAffected && len(a.Ranges) == 0 && len(a.Versions) == 0 {
					t.Fatalf("affected without bounds %+v", a)
				}
				if a.Arches != nil && len(a.Arches) == 0 {
					t.Fatalf("empty non-nil arches %+v", a)
				}
				return nil
			})
		}
	})
}
