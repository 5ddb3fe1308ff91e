package amazon

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

func collect(t testing.TB, ns string, b []byte) []*vuln.Advisory {
	t.Helper()
	var out []*vuln.Advisory
	if err := ParseUpdateinfo(context.Background(), ns, bytes.NewReader(b), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func find(as []*vuln.Advisory, name, pkg string) []*vuln.Advisory {
	var out []*vuln.Advisory
	for _, a := range as {
		if a.Name == name && a.Package == pkg {
			out = append(out, a)
		}
	}
	return out
}

// TestExcerpt checks advisories read by hand against the two real ALAS of
// testdata/al2-excerpt.xml.
func TestExcerpt(t *testing.T) {
	b, err := os.ReadFile("testdata/al2-excerpt.xml")
	if err != nil {
		t.Fatal(err)
	}
	as := collect(t, "amzn:2", b)
	// ALAS2-2018-1004: 4 CVEs × 6 packages (openssl, -libs, -devel,
	// -static, -perl, -debuginfo; x86_64 only). ALAS2-2018-1077: 3 CVEs
	// × 2 packages (mutt, mutt-debuginfo; x86_64 and i686).
	if len(as) != 4*6+3*2 {
		t.Errorf("%d advisories, want 30", len(as))
	}
	got := find(as, "CVE-2018-0737", "openssl-libs")
	if len(got) != 1 {
		t.Fatalf("CVE-2018-0737 openssl-libs: %d advisories", len(got))
	}
	a := got[0]
	want := &vuln.Advisory{
		Feed: "amazon", Name: "CVE-2018-0737", Namespace: "amzn:2", Package: "openssl-libs",
		VersionFormat: "rpm", State: vuln.StateAffected,
		Ranges: []vuln.Range{{Fixed: "1:1.0.2k-12.amzn2.0.1"}}, FixedIn: "1:1.0.2k-12.amzn2.0.1",
		Arches: []string{"x86_64"}, Severity: "medium", NormalizedSeverity: vuln.Medium,
		Aliases: []string{"ALAS2-2018-1004"},
	}
	if a.Issued.Format("2006-01-02 15:04:05") != "2018-04-26 17:38:00" {
		t.Errorf("issued %v", a.Issued)
	}
	if a.Links[0] != "https://alas.aws.amazon.com/AL2/ALAS-2018-1004.html" || !strings.Contains(a.Description, "RSA key generation") {
		t.Errorf("links %q description %.60q", a.Links, a.Description)
	}
	a.Issued, a.Links, a.Description = want.Issued, nil, ""
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
	m := find(as, "CVE-2018-14354", "mutt")
	if len(m) != 1 || m[0].FixedIn != "5:1.5.21-28.amzn2" || !reflect.DeepEqual(m[0].Arches, []string{"i686", "x86_64"}) || m[0].NormalizedSeverity != vuln.High {
		t.Errorf("mutt: %+v", m)
	}

	b, err = os.ReadFile("testdata/al2023-excerpt.xml")
	if err != nil {
		t.Fatal(err)
	}
	as = collect(t, "amzn:2023", b)
	r := find(as, "CVE-2022-24903", "rsyslog")
	if len(r) != 1 || r[0].FixedIn != "8.2204.0-3.amzn2023.0.2" || r[0].Namespace != "amzn:2023" ||
		!reflect.DeepEqual(r[0].Arches, []string{"aarch64", "i686", "x86_64"}) || r[0].Severity != "Important" ||
		r[0].Links[0] != "https://alas.aws.amazon.com/AL2023/ALAS-2023-001.html" {
		t.Errorf("rsyslog: %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not xml":   "{}",
		"wrong":     `<foo/>`,
		"truncated": `<updates><update type="security"><id>ALAS-1</id>`,
		"no id":     `<updates><update type="security"><id></id></update></updates>`,
		"no ver":    `<updates><update type="security"><id>A</id><pkglist><collection><package name="x"/></collection></pkglist></update></updates>`,
		"bad gzip":  "\x1f\x8b\x00",
	} {
		err := ParseUpdateinfo(context.Background(), "amzn:2", strings.NewReader(in), func(*vuln.Advisory) error { return nil })
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A bugfix update names no vulnerability.
	n := 0
	err := ParseUpdateinfo(context.Background(), "amzn:2", strings.NewReader(`<updates><update type="bugfix"><id>ALAS-1</id></update></updates>`),
		func(*vuln.Advisory) error { n++; return nil })
	if err != nil || n != 0 {
		t.Errorf("bugfix: %v %d", err, n)
	}
}

// vulsUpdate is vuls' JSON rendering of an <update>.
type vulsUpdate struct {
	ID, Author, From, Status, Type, Version, Title, Severity, Description string
	Issued, Updated                                                       struct{ Date string }
	References                                                            struct {
		Reference []struct{ Href, ID, Title, Type string }
	}
	Pkglist struct {
		Collection struct {
			Short, Name string
			Package     []struct{ Arch, Epoch, Name, Release, Version, Filename string }
		}
	}
}

// render writes vuls' records back as updateinfo.xml.
func render(t testing.TB, us []vulsUpdate) []byte {
	t.Helper()
	type attr = xml.Attr
	var b bytes.Buffer
	b.WriteString(xml.Header + "<updates>\n")
	enc := xml.NewEncoder(&b)
	start := func(name string, attrs ...attr) {
		if err := enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	end := func(name string) {
		if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}}); err != nil {
			t.Fatal(err)
		}
	}
	text := func(name, s string, attrs ...attr) {
		start(name, attrs...)
		if err := enc.EncodeToken(xml.CharData(s)); err != nil {
			t.Fatal(err)
		}
		end(name)
	}
	a := func(k, v string) attr { return attr{Name: xml.Name{Local: k}, Value: v} }
	for _, u := range us {
		start("update", a("author", u.Author), a("from", u.From), a("status", u.Status), a("type", u.Type), a("version", u.Version))
		text("id", u.ID)
		text("title", u.Title)
		text("issued", "", a("date", u.Issued.Date))
		text("updated", "", a("date", u.Updated.Date))
		text("severity", u.Severity)
		text("description", u.Description)
		start("references")
		for _, r := range u.References.Reference {
			text("reference", "", a("href", r.Href), a("id", r.ID), a("title", r.Title), a("type", r.Type))
		}
		end("references")
		start("pkglist")
		c := u.Pkglist.Collection
		start("collection", a("short", c.Short))
		text("name", c.Name)
		for _, p := range c.Package {
			start("package", a("arch", p.Arch), a("epoch", p.Epoch), a("name", p.Name), a("release", p.Release), a("version", p.Version))
			text("filename", p.Filename)
			end("package")
		}
		end("collection")
		end("pkglist")
		end("update")
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n</updates>\n")
	return b.Bytes()
}

var (
	sharedOnce sync.Once
	sharedData map[string][]vulsUpdate // by release: "2", "2023"
	sharedErr  error
)

// shared reads the vuls rendering of every AL2 and AL2023 ALAS.
func shared(t testing.TB) map[string][]vulsUpdate {
	p := filepath.Join("..", "..", "..", "shared", "testdata", "feeds", "amazon", "alas-al2-al2023-updateinfo-vulsjson.zip")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data not available: %v", err)
	}
	sharedOnce.Do(func() {
		zr, err := zip.OpenReader(p)
		if err != nil {
			sharedErr = err
			return
		}
		defer zr.Close()
		sharedData = map[string][]vulsUpdate{}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			rel := strings.SplitN(f.Name, "/", 2)[0]
			rc, err := f.Open()
			if err != nil {
				sharedErr = err
				return
			}
			var u vulsUpdate
			err = json.NewDecoder(rc).Decode(&u)
			rc.Close()
			if err != nil {
				sharedErr = fmt.Errorf("%s: %w", f.Name, err)
				return
			}
			sharedData[rel] = append(sharedData[rel], u)
		}
		for _, us := range sharedData {
			sort.Slice(us, func(i, j int) bool { return us[i].ID < us[j].ID })
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedData
}

// expected counts advisories independently of the parser: CVE references
// (or 1) × distinct (name, evr) pairs of the pkglist.
func expected(us []vulsUpdate) int {
	n := 0
	for _, u := range us {
		cves := map[string]bool{}
		for _, r := range u.References.Reference {
			if r.Type == "cve" {
				cves[r.ID] = true
			}
		}
		pk := map[string]bool{}
		for _, p := range u.Pkglist.Collection.Package {
			pk[p.Name+" "+p.Epoch+":"+p.Version+"-"+p.Release] = true
		}
		names := len(cves)
		if names == 0 {
			names = 1
		}
		n += names * len(pk)
	}
	return n
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// repo serves mirror lists, repomd.xml and updateinfo.xml.gz the way
// cdn.amazonlinux.com lays them out, counting requests. Anything else is
// a 404, so an unexpected request fails the test instead of leaving.
type repo struct {
	mu       sync.Mutex
	files    map[string][]byte
	requests map[string]int
}

func (r *repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	b, ok := r.files[req.URL.Path]
	r.requests[req.URL.Path]++
	r.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Write(b)
}

func (r *repo) set(srvURL, rel string, updateinfo []byte, corrupt bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := sha256.Sum256(updateinfo)
	hexsum := hex.EncodeToString(sum[:])
	if corrupt {
		hexsum = strings.Repeat("0", 64)
	}
	dir := fmt.Sprintf("/%s/core/2.0/x86_64/%s/", rel, hexsum[:12])
	r.files["/"+rel+"/core/latest/x86_64/mirror.list"] = []byte(srvURL + dir + "\n")
	r.files[dir+"repodata/repomd.xml"] = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
 <revision>1737000000</revision>
 <data type="primary"><checksum type="sha256">aa</checksum><location href="repodata/primary.sqlite.gz"/></data>
 <data type="updateinfo">
  <checksum type="sha256">` + hexsum + `</checksum>
  <location href="repodata/` + hexsum[:8] + `-updateinfo.xml.gz"/>
 </data>
</repomd>
`)
	r.files[dir+"repodata/"+hexsum[:8]+"-updateinfo.xml.gz"] = updateinfo
}

func parseSnap(t testing.TB, snap []byte) []*vuln.Advisory {
	t.Helper()
	var out []*vuln.Advisory
	if err := New().Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFetchHTTP(t *testing.T) {
	data := shared(t)
	r := &repo{files: map[string][]byte{}, requests: map[string]int{}}
	srv := httptest.NewServer(r)
	defer srv.Close()
	al2, al2023 := gz(t, render(t, data["2"])), gz(t, render(t, data["2023"]))
	r.set(srv.URL, "2", al2, false)
	r.set(srv.URL, "2023", al2023, false)
	u := "2=" + srv.URL + "/2/core/latest/x86_64/mirror.list 2023=" + srv.URL + "/2023/core/latest/x86_64/mirror.list"
	f := New()
	ctx := context.Background()

	var snap bytes.Buffer
	fp, err := f.Fetch(ctx, srv.Client(), u, "", &snap)
	if err != nil {
		t.Fatal(err)
	}
	as := parseSnap(t, snap.Bytes())
	ns := map[string]int{}
	for _, a := range as {
		ns[a.Namespace]++
	}
	if want := map[string]int{"amzn:2": expected(data["2"]), "amzn:2023": expected(data["2023"])}; !reflect.DeepEqual(ns, want) {
		t.Errorf("advisories by namespace %v, want %v", ns, want)
	}
	t.Logf("%d ALAS → %d advisories %v; snapshot %d bytes", len(data["2"])+len(data["2023"]), len(as), ns, snap.Len())

	// Unchanged: mirror lists and repomd.xml only.
	before := map[string]int{}
	for k, v := range r.requests {
		before[k] = v
	}
	if _, err := f.Fetch(ctx, srv.Client(), u, fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Fatalf("second fetch: %v, want ErrUnchanged", err)
	}
	for k, v := range r.requests {
		if strings.HasSuffix(k, "updateinfo.xml.gz") && v != before[k] {
			t.Errorf("%s downloaded again while unchanged", k)
		}
	}

	// AL2023 changes: both are in the new snapshot.
	r.set(srv.URL, "2023", gz(t, render(t, data["2023"][:10])), false)
	snap.Reset()
	fp2, err := f.Fetch(ctx, srv.Client(), u, fp, &snap)
	if err != nil || fp2 == fp {
		t.Fatalf("changed fetch: %v (fingerprint changed: %v)", err, fp2 != fp)
	}
	ns = map[string]int{}
	for _, a := range parseSnap(t, snap.Bytes()) {
		ns[a.Namespace]++
	}
	if ns["amzn:2"] != expected(data["2"]) || ns["amzn:2023"] != expected(data["2023"][:10]) {
		t.Errorf("after change: %v", ns)
	}

	// A mirror whose updateinfo does not match repomd.xml.
	r.set(srv.URL, "2", al2, true)
	if _, err := f.Fetch(ctx, srv.Client(), u, "", io.Discard); err == nil || !strings.Contains(err.Error(), "repomd.xml says") {
		t.Errorf("corrupt mirror: %v", err)
	}
}

func TestParseAll(t *testing.T) {
	data := shared(t)
	for rel, us := range data {
		b := render(t, us)
		n := 0
		if err := ParseUpdateinfo(context.Background(), "amzn:"+rel, bytes.NewReader(b), func(a *vuln.Advisory) error {
			n++
			if a.Package == "" || a.FixedIn == "" || len(a.Arches) == 0 || a.NormalizedSeverity == vuln.Unknown {
				t.Errorf("%s %s: %+v", a.Name, a.Package, a)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != expected(us) {
			t.Errorf("%s: %d advisories, want %d", rel, n, expected(us))
		}
	}
}

func TestFetchLocal(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/al2-excerpt.xml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "updateinfo.xml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	fp, err := New().Fetch(context.Background(), nil, "2="+p, "", &snap)
	if err != nil {
		t.Fatal(err)
	}
	if as := parseSnap(t, snap.Bytes()); len(as) != 30 {
		t.Errorf("%d advisories", len(as))
	}
	if _, err := New().Fetch(context.Background(), nil, "2="+p, fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Errorf("unchanged: %v", err)
	}
	for _, bad := range []string{"", "2", "x=file:///a", "2=" + p + " 2=" + p} {
		if _, err := New().Fetch(context.Background(), nil, bad, "", io.Discard); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRegistered(t *testing.T) {
	f, ok := feed.Lookup("amazon")
	if !ok || f.DefaultURL() != DefaultURL {
		t.Fatal("amazon is not registered")
	}
	rels, err := parseReleases(DefaultURL)
	if err != nil || len(rels) != 3 {
		t.Fatalf("%v %v", rels, err)
	}
}

func FuzzParseUpdateinfo(f *testing.F) {
	for _, p := range []string{"testdata/al2-excerpt.xml", "testdata/al2023-excerpt.xml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<updates><update type="security"><id>ALAS-2018-1</id><references><reference id="CVE-2018-1" type="cve"/></references><pkglist><collection><package name="a" epoch="1" version="1" release="2" arch="x86_64"/></collection></pkglist></update></updates>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ParseUpdateinfo(context.Background(), "amzn:2", bytes.NewReader(b), func(a *vuln.Advisory) error {
			if a.Package == "" || a.Name == "" || a.FixedIn == "" || a.Ranges[0].Fixed != a.FixedIn {
				t.Fatalf("bad advisory %+v", a)
			}
			return nil
		})
	})
}
