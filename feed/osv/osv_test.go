package osv

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// fullData returns the directory of osv.dev's complete exports, which the
// machine may or may not have.
func fullData() string {
	return filepath.Join(sharedtest.Dir(), "feeds", "osv")
}

// zipOf builds a zip of files (name → content), in sorted name order as
// osv.dev's exports are.
func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarOf builds a snapshot as Fetch writes it from ecosystem → zip bytes.
func tarOf(t testing.TB, ecos []string, zips map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ecos {
		b := zips[e]
		if err := tw.WriteHeader(&tar.Header{Name: e + "/all.zip", Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testdataZip zips testdata/records/<eco>/*.json under GHSA/, GO/ or PYSEC/
// folders, as osv.dev lays them out.
func testdataZip(t testing.TB, eco string) []byte {
	t.Helper()
	dir := filepath.Join("testdata", "records", eco)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		prefix, _, _ := strings.Cut(e.Name(), "-")
		files[prefix+"/"+e.Name()] = b
	}
	return zipOf(t, files)
}

func parse(t testing.TB, snap []byte) []*vuln.Advisory {
	t.Helper()
	var out []*vuln.Advisory
	err := New().Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func find(advs []*vuln.Advisory, ns, pkg, name string) []*vuln.Advisory {
	var out []*vuln.Advisory
	for _, a := range advs {
		if a.Namespace == ns && a.Package == pkg && a.Name == name {
			out = append(out, a)
		}
	}
	return out
}

func one(t *testing.T, advs []*vuln.Advisory, ns, pkg, name string) *vuln.Advisory {
	t.Helper()
	got := find(advs, ns, pkg, name)
	if len(got) != 1 {
		t.Fatalf("%d advisories for %s %s %s, want 1", len(got), ns, pkg, name)
	}
	return got[0]
}

func testdataSnapshot(t testing.TB) []byte {
	ecos := []string{"Go", "PyPI", "npm"}
	zips := map[string][]byte{}
	for _, e := range ecos {
		zips[e] = testdataZip(t, e)
	}
	return tarOf(t, ecos, zips)
}

func TestParseRecords(t *testing.T) {
	advs := parse(t, testdataSnapshot(t))

	// GHSA-j8r2-6x86-q33q and PYSEC-2023-74 are both CVE-2023-32681 for
	// requests: one advisory, from the GHSA record (first in the zip).
	req := one(t, advs, "pypi", "requests", "CVE-2023-32681")
	if req.State != vuln.StateAffected || req.FixedIn != "2.31.0" || req.VersionFormat != "pep440" ||
		!reflect.DeepEqual(req.Ranges, []vuln.Range{{Introduced: "2.3.0", Fixed: "2.31.0"}}) {
		t.Errorf("requests: %+v", req)
	}
	if req.Severity != "MODERATE" || req.NormalizedSeverity != vuln.Medium {
		t.Errorf("requests severity %q %v", req.Severity, req.NormalizedSeverity)
	}
	if !reflect.DeepEqual(req.Aliases, []string{"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"}) {
		t.Errorf("requests aliases %q", req.Aliases)
	}
	if len(req.Versions) != 66 || req.Issued.IsZero() || req.Description == "" || len(req.Links) == 0 {
		t.Errorf("requests: %d versions, issued %v, %d links", len(req.Versions), req.Issued, len(req.Links))
	}

	// A record for NuGet, Maven and PyPI, in the PyPI zip: the PyPI entry
	// only, its name normalized.
	cdm := one(t, advs, "pypi", "commondatamodel-objectmodel", "CVE-2023-36566")
	if cdm.VersionFormat != "pep440" {
		t.Errorf("cdm: %+v", cdm)
	}
	for _, a := range advs {
		if a.Namespace == "nuget" || a.Namespace == "maven" {
			t.Errorf("entry of another ecosystem emitted from its PyPI zip: %+v", a)
		}
	}

	// GHSA-vvpx-j8f3-3w6h and GO-2023-1571 for golang.org/x/net.
	xnet := one(t, advs, "go", "golang.org/x/net", "CVE-2022-41723")
	if xnet.FixedIn != "v0.7.0" || xnet.State != vuln.StateAffected || xnet.VersionFormat != "semver" ||
		!reflect.DeepEqual(xnet.Ranges, []vuln.Range{{Fixed: "v0.7.0"}}) || xnet.NormalizedSeverity != vuln.High {
		t.Errorf("x/net: %+v", xnet)
	}
	if !reflect.DeepEqual(xnet.Aliases, []string{"GHSA-vvpx-j8f3-3w6h", "BIT-golang-2022-41723", "GO-2023-1571"}) {
		t.Errorf("x/net aliases %q", xnet.Aliases)
	}
	std := one(t, advs, "go", "stdlib", "CVE-2022-41723")
	if std.FixedIn != "v1.19.6" || !reflect.DeepEqual(std.Ranges, []vuln.Range{{Fixed: "v1.19.6"}, {Introduced: "v1.20.0-0", Fixed: "v1.20.1"}}) {
		t.Errorf("stdlib: %+v", std)
	}
	// Severity of a record without GHSA's word and without CVSS.
	if std.Severity != "" || std.NormalizedSeverity != vuln.Unknown {
		t.Errorf("stdlib severity %q %v", std.Severity, std.NormalizedSeverity)
	}

	// lodash: fixed, and last_affected without a fix.
	lo := one(t, advs, "npm", "lodash", "CVE-2021-23337")
	if lo.FixedIn != "4.17.21" || lo.VersionFormat != "npm" || lo.NormalizedSeverity != vuln.High ||
		!reflect.DeepEqual(lo.Ranges, []vuln.Range{{Fixed: "4.17.21"}}) || !reflect.DeepEqual(lo.Aliases, []string{"GHSA-35jh-r3h4-6jhm"}) {
		t.Errorf("lodash: %+v", lo)
	}
	lt := one(t, advs, "npm", "lodash.template", "CVE-2021-23337")
	if lt.State != vuln.StateAffected || lt.FixedIn != "" || !reflect.DeepEqual(lt.Ranges, []vuln.Range{{LastAffected: "4.5.0"}}) {
		t.Errorf("lodash.template: %+v", lt)
	}

	// Every Go bound has its "v", and every bound parses in its scheme.
	for _, a := range advs {
		s, ok := version.Lookup(a.VersionFormat)
		if !ok {
			t.Fatalf("%s: no scheme %q", a.Name, a.VersionFormat)
		}
		for _, r := range a.Ranges {
			for _, v := range []string{r.Introduced, r.Fixed, r.LastAffected} {
				if v == "" {
					continue
				}
				if _, err := s.Parse(v); err != nil {
					t.Errorf("%s %s: %v", a.Name, a.Package, err)
				}
			}
		}
	}
	if w := one(t, advs, "go", "github.com/wazuh/wazuh", "CVE-2024-35177"); len(w.Ranges) == 0 || w.Ranges[0].Fixed != "v4.9.0+incompatible" {
		t.Errorf("wazuh: %+v", w)
	}
}

func TestIncompatible(t *testing.T) {
	advs := parse(t, testdataSnapshot(t))
	n := 0
	for _, a := range advs {
		for _, r := range a.Ranges {
			if strings.HasSuffix(r.Fixed, "+incompatible") {
				n++
				if !strings.HasPrefix(r.Fixed, "v") {
					t.Errorf("%s: fixed %q", a.Name, r.Fixed)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no +incompatible bound")
	}
}

// rec writes a minimal OSV record.
func rec(id string, aliases []string, affected ...string) []byte {
	al, _ := json.Marshal(aliases)
	return fmt.Appendf(nil, `{"id":%q,"aliases":%s,"published":"2024-01-02T03:04:05Z","affected":[%s]}`, id, al, strings.Join(affected, ","))
}

func aff(eco, name, ranges string) string {
	return fmt.Sprintf(`{"package":{"ecosystem":%q,"name":%q},%s}`, eco, name, ranges)
}

func TestMapping(t *testing.T) {
	files := map[string][]byte{
		"a/withdrawn.json": []byte(`{"id":"GHSA-w","withdrawn":"2024-01-01T00:00:00Z","affected":[` +
			aff("PyPI", "x", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"}]}]`) + `]}`),
		"a/git.json":   rec("GHSA-g", nil, aff("npm", "g", `"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"},{"fixed":"abc"}]}]`)),
		"a/other.json": rec("DSA-1", nil, aff("Debian:12", "o", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"}]}]`)),
		"a/open.json": rec("GHSA-o", []string{"CVE-1", "CVE-2"},
			aff("Go", "example.com/m", `"ranges":[{"type":"SEMVER","events":[{"introduced":"1.4.0"}]}]`)),
		"a/limit.json": rec("GHSA-l", []string{"CVE-9"},
			aff("crates.io", "c", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"limit":"2.0"}]}]`),
			aff("crates.io", "c", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"3.0"},{"fixed":"3.1"}]}]`)),
		"a/vers.json":   rec("PYSEC-v", nil, aff("PyPI", "Foo__Bar.baz", `"versions":["1.0","1.1"]`)),
		"a/all.json":    rec("GHSA-all", nil, aff("Packagist", "p/p", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]`)),
		"a/lowest.json": rec("GHSA-low", nil, aff("npm", "n", `"ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"},{"fixed":"2.10.0"},{"introduced":"0"},{"fixed":"1.9.0"}]}]`)),
		"a/cvss.json": []byte(`{"id":"GHSA-c","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"affected":[` +
			aff("RubyGems", "r", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"}]}]`) + `]}`),
		"a/maven.json": rec("GHSA-m", nil, aff("Maven:https://repo.example.com", "g:a", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"}]}]`),
			aff("NuGet", "N", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"}]}]`)),
		"a/readme.txt": []byte("not a record"),
		// Linked by ids: GO-n lists GHSA-n, which has no CVE.
		"b/ghsa.json": rec("GHSA-n", []string{"BIT-n"}, aff("Go", "example.com/l", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]`)),
		"b/go.json":   rec("GO-n", []string{"GHSA-n"}, aff("Go", "example.com/l", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]`)),
		// Linked, but each names its own CVE: both stay.
		"b/cve1.json": rec("GHSA-p", []string{"CVE-5", "GHSA-q"}, aff("npm", "q", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]`)),
		"b/cve2.json": rec("GHSA-q", []string{"CVE-6", "GHSA-p"}, aff("npm", "q", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]`)),
	}
	// A bare zip is a snapshot of every ecosystem.
	advs := parse(t, zipOf(t, files))
	got := map[string]*vuln.Advisory{}
	for _, a := range advs {
		got[a.Namespace+" "+a.Package+" "+a.Name] = a
	}
	want := map[string]vuln.Advisory{
		"go example.com/m GHSA-o": {State: vuln.StateUnfixed, VersionFormat: "semver", Ranges: []vuln.Range{{Introduced: "v1.4.0"}}, Aliases: []string{"CVE-1", "CVE-2"}},
		"cargo c CVE-9": {State: vuln.StateAffected, VersionFormat: "cargo", FixedIn: "2.0",
			Ranges: []vuln.Range{{Fixed: "2.0"}, {Introduced: "3.0", Fixed: "3.1"}}, Aliases: []string{"GHSA-l"}},
		"pypi foo-bar-baz PYSEC-v": {State: vuln.StateAffected, VersionFormat: "pep440", Versions: []string{"1.0", "1.1"}, Aliases: []string{}},
		"composer p/p GHSA-all":    {State: vuln.StateUnfixed, VersionFormat: "composer", Aliases: []string{}},
		"npm n GHSA-low":           {State: vuln.StateAffected, VersionFormat: "npm", FixedIn: "1.9.0", Ranges: []vuln.Range{{Introduced: "2.0.0", Fixed: "2.10.0"}, {Fixed: "1.9.0"}}, Aliases: []string{}},
		"rubygems r GHSA-c":        {State: vuln.StateAffected, VersionFormat: "rubygems", FixedIn: "1", Ranges: []vuln.Range{{Fixed: "1"}}, Severity: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Aliases: []string{}},
		"maven g:a GHSA-m":         {State: vuln.StateAffected, VersionFormat: "maven", FixedIn: "1", Ranges: []vuln.Range{{Fixed: "1"}}, Aliases: []string{}},
		"go example.com/l GHSA-n":  {State: vuln.StateAffected, VersionFormat: "semver", FixedIn: "v1.0.0", Ranges: []vuln.Range{{Fixed: "v1.0.0"}}, Aliases: []string{"BIT-n", "GO-n"}},
		"npm q CVE-5":              {State: vuln.StateAffected, VersionFormat: "npm", FixedIn: "1.0.0", Ranges: []vuln.Range{{Fixed: "1.0.0"}}, Aliases: []string{"GHSA-p", "GHSA-q"}},
		"npm q CVE-6":              {State: vuln.StateAffected, VersionFormat: "npm", FixedIn: "1.0.0", Ranges: []vuln.Range{{Fixed: "1.0.0"}}, Aliases: []string{"GHSA-q", "GHSA-p"}},
		"nuget N GHSA-m":           {State: vuln.StateAffected, VersionFormat: "nuget", FixedIn: "1", Ranges: []vuln.Range{{Fixed: "1"}}, Aliases: []string{}},
	}
	if len(got) != len(want) || len(advs) != len(want) {
		for k := range got {
			t.Log(k)
		}
		t.Fatalf("%d advisories (%d keys), want %d", len(advs), len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g == nil {
			t.Errorf("missing %s", k)
			continue
		}
		c := *g
		c.Name, c.Namespace, c.Package, c.Issued, c.Description, c.Links = "", "", "", time.Time{}, "", nil
		if c.Severity == "" {
			c.NormalizedSeverity = vuln.Unknown
		}
		w.NormalizedSeverity = c.NormalizedSeverity
		if !reflect.DeepEqual(c, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", k, c, w)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, snap := range map[string][]byte{
		"bad json":  zipOf(t, map[string][]byte{"GHSA/x.json": []byte(`{"id":`)}),
		"no id":     zipOf(t, map[string][]byte{"GHSA/x.json": []byte(`{}`)}),
		"no name":   zipOf(t, map[string][]byte{"GHSA/x.json": rec("X", nil, aff("npm", "", `"versions":["1"]`))}),
		"bad date":  zipOf(t, map[string][]byte{"GHSA/x.json": []byte(`{"id":"X","published":"yesterday"}`)}),
		"empty zip": zipOf(t, map[string][]byte{}),
		"empty tar": tarOf(t, nil, nil),
		"garbage":   []byte("garbage"),
		"unknown":   tarOf(t, []string{"Hackage"}, map[string][]byte{"Hackage": zipOf(t, map[string][]byte{"x.json": rec("X", nil)})}),
		"bad zip":   tarOf(t, []string{"Go"}, map[string][]byte{"Go": []byte("PK\x03\x04 not a zip")}),
	} {
		err := New().Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(*vuln.Advisory) error { return nil })
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "osv: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// emit's error stops the parse and is returned.
	stop := errors.New("stop")
	snap := testdataSnapshot(t)
	if err := New().Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(*vuln.Advisory) error { return stop }); err != stop {
		t.Errorf("emit error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := New().Parse(ctx, bytes.NewReader(snap), int64(len(snap)), func(*vuln.Advisory) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	f, ok := feed.Lookup(Name)
	if !ok || f.DefaultURL() != DefaultURL {
		t.Fatal("osv feed not registered")
	}
}

// server serves dir/<Eco>.zip at /<Eco>/all.zip with ETags, counting
// requests per path.
type server struct {
	dir string
	mu  sync.Mutex
	n   map[string]int
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n[r.URL.Path]++
	s.mu.Unlock()
	eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/all.zip")
	if !ok || strings.Contains(eco, "/") {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(s.dir, eco+".zip"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s %d %d", eco, fi.Size(), fi.ModTime().UnixNano()))
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, r, "all.zip", time.Time{}, f)
}

func (s *server) count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[p]
}

// ecoDir fills a directory with Go.zip, PyPI.zip and npm.zip: links to the
// full exports when the machine has them (full reports which), the
// testdata records otherwise.
func ecoDir(t *testing.T) (dir string, full bool) {
	dir = t.TempDir()
	full = true
	for _, e := range []string{"Go", "PyPI", "npm"} {
		src := filepath.Join(fullData(), e+".zip")
		if _, err := os.Stat(src); err == nil && !testing.Short() && !raceEnabled {
			if err := os.Symlink(src, filepath.Join(dir, e+".zip")); err != nil {
				t.Fatal(err)
			}
			continue
		}
		full = false
		if err := os.WriteFile(filepath.Join(dir, e+".zip"), testdataZip(t, e), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, full
}

func TestFetchHTTP(t *testing.T) {
	dir, full := ecoDir(t)
	s := &server{dir: dir, n: map[string]int{}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	f := New()
	ctx := context.Background()

	snap, err := os.Create(filepath.Join(t.TempDir(), "snap"))
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	fp, err := f.Fetch(ctx, ts.Client(), ts.URL, "", snap)
	if err != nil {
		t.Fatal(err)
	}
	var fps map[string]string
	if err := json.Unmarshal([]byte(fp), &fps); err != nil || len(fps) != 3 || fps["Go"] == "" || fps["PyPI"] == "" || fps["npm"] == "" {
		t.Fatalf("fingerprint %s: %v", fp, err)
	}
	for _, e := range f.Ecosystems {
		if n := s.count("/" + e + "/all.zip"); n != 1 {
			t.Errorf("%s: %d requests, want 1", e, n)
		}
	}
	size, _ := snap.Seek(0, 2)
	// The snapshot holds the zips whole.
	tr := tar.NewReader(snap)
	snap.Seek(0, 0)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	if !reflect.DeepEqual(names, []string{"Go/all.zip", "PyPI/all.zip", "npm/all.zip"}) {
		t.Errorf("snapshot entries %q", names)
	}
	counts := parseCounts(t, snap, size, full)
	t.Logf("advisories per namespace: %v", counts)

	// Unchanged: one conditional request per ecosystem (404s included).
	fp2, err := f.Fetch(ctx, ts.Client(), ts.URL+"/", fp, &bytes.Buffer{})
	if !errors.Is(err, feed.ErrUnchanged) || fp2 != "" {
		t.Fatalf("second fetch: %q, %v", fp2, err)
	}
	for _, e := range f.Ecosystems {
		if n := s.count("/" + e + "/all.zip"); n != 2 {
			t.Errorf("%s: %d requests, want 2", e, n)
		}
	}

	// One ecosystem changes: the snapshot is whole again.
	npm := filepath.Join(dir, "npm.zip")
	os.Remove(npm)
	if err := os.WriteFile(npm, testdataZip(t, "npm"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fp3, err := f.Fetch(ctx, ts.Client(), ts.URL, fp, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if fp3 == fp {
		t.Error("fingerprint unchanged")
	}
	advs := parse(t, buf.Bytes())
	one(t, advs, "npm", "lodash", "CVE-2021-23337")
	one(t, advs, "go", "golang.org/x/net", "CVE-2022-41723")
	one(t, advs, "pypi", "requests", "CVE-2023-32681")

	// An ecosystem goes away: a change.
	os.Remove(npm)
	buf.Reset()
	fp4, err := f.Fetch(ctx, ts.Client(), ts.URL, fp3, &buf)
	if err != nil || strings.Contains(fp4, "npm") {
		t.Fatalf("fetch without npm: %s, %v", fp4, err)
	}
	// None there: an error.
	f2 := &Feed{Ecosystems: []string{"Hackage"}}
	if _, err := f2.Fetch(ctx, ts.Client(), ts.URL, "", &buf); err == nil {
		t.Error("no ecosystem: no error")
	}
	if _, err := (&Feed{Ecosystems: []string{"../x"}}).Fetch(ctx, ts.Client(), ts.URL, "", &buf); err == nil {
		t.Error("bad ecosystem name: no error")
	}
}

// parseCounts parses a snapshot and checks its records; with the full
// exports it also checks well-known advisories and logs time and memory.
func parseCounts(t *testing.T, snap *os.File, size int64, full bool) map[string]int {
	t.Helper()
	counts := map[string]int{}
	var advs []*vuln.Advisory
	seen := map[string]bool{}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	start := time.Now()
	err := New().Parse(context.Background(), snap, size, func(a *vuln.Advisory) error {
		counts[a.Namespace]++
		k := key(a)
		if seen[k] {
			t.Errorf("duplicate advisory %q", k)
		}
		seen[k] = true
		if counts[a.Namespace]%2000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		if a.Package == "requests" || a.Package == "golang.org/x/net" || a.Package == "lodash" {
			advs = append(advs, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parse: %v, heap peak over baseline ~%d MiB (sampled)", time.Since(start), (peak-min(base, peak))>>20)
	one(t, advs, "pypi", "requests", "CVE-2023-32681")
	one(t, advs, "go", "golang.org/x/net", "CVE-2022-41723")
	lo := one(t, advs, "npm", "lodash", "CVE-2021-23337")
	if lo.FixedIn != "4.17.21" {
		t.Errorf("lodash: %+v", lo)
	}
	if full {
		for ns, min := range map[string]int{"go": 3000, "pypi": 4000, "npm": 3000} {
			if counts[ns] < min {
				t.Errorf("%s: %d advisories, want at least %d", ns, counts[ns], min)
			}
		}
	}
	return counts
}

func TestFetchFile(t *testing.T) {
	root := t.TempDir()
	// Both layouts: <root>/Go/all.zip and <root>/PyPI.zip.
	if err := os.MkdirAll(filepath.Join(root, "Go"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "Go", "all.zip"), testdataZip(t, "Go"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "PyPI.zip"), testdataZip(t, "PyPI"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := New()
	ctx := context.Background()
	var buf bytes.Buffer
	fp, err := f.Fetch(ctx, nil, "file://"+filepath.ToSlash(root), "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	advs := parse(t, buf.Bytes())
	one(t, advs, "go", "golang.org/x/net", "CVE-2022-41723")
	one(t, advs, "pypi", "requests", "CVE-2023-32681")
	if _, err := f.Fetch(ctx, nil, root, fp, &bytes.Buffer{}); !errors.Is(err, feed.ErrUnchanged) {
		t.Fatalf("unchanged: %v", err)
	}
	// A new ecosystem appears.
	if err := os.WriteFile(filepath.Join(root, "npm.zip"), testdataZip(t, "npm"), 0o644); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if _, err := f.Fetch(ctx, nil, root, fp, &buf); err != nil {
		t.Fatal(err)
	}
	advs = parse(t, buf.Bytes())
	one(t, advs, "npm", "lodash", "CVE-2021-23337")
	one(t, advs, "go", "golang.org/x/net", "CVE-2022-41723")
	if _, err := f.Fetch(ctx, nil, t.TempDir(), "", &buf); err == nil {
		t.Error("empty tree: no error")
	}
}

// TestFull parses every full export there is and logs counts per namespace
// and how many records collapsed into another's advisory.
func TestFull(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("short or race: the full exports take minutes under the race detector")
	}
	var ecos []string
	var zips = map[string][]byte{}
	for _, e := range Ecosystems {
		b, err := os.ReadFile(filepath.Join(fullData(), e.OSV+".zip"))
		if err != nil {
			continue
		}
		ecos = append(ecos, e.OSV)
		zips[e.OSV] = b
	}
	if len(ecos) == 0 {
		t.Skipf("no full exports at %s: this test needs ../shared/testdata (CI has it)", fullData())
	}
	snap := tarOf(t, ecos, zips)
	zips = nil
	// Parse from a file, as the updater does: the heap then shows the
	// parser's own memory.
	sf, err := os.Create(filepath.Join(t.TempDir(), "snap"))
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	if _, err := sf.Write(snap); err != nil {
		t.Fatal(err)
	}
	snapLen := len(snap)
	snap = nil
	counts := map[string]int{}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	start := time.Now()
	n := 0
	err = New().Parse(context.Background(), sf, int64(snapLen), func(a *vuln.Advisory) error {
		counts[a.Namespace]++
		n++
		if n%5000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	// Records collapsed: advisories the records would give without merging.
	raw := 0
	var rbuf bytes.Buffer
	for _, e := range ecos {
		zb := zipsOf(t, sf, e)
		zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
		if err != nil {
			t.Fatal(err)
		}
		eco, _ := lookupEcosystem(e)
		for _, f := range zr.File {
			if path.Ext(f.Name) != ".json" {
				continue
			}
			b, err := readRecord(f, &rbuf)
			if err != nil {
				t.Fatal(err)
			}
			r, err := decode(f.Name, b)
			if err != nil {
				t.Fatal(err)
			}
			advs, err := convert(f.Name, r, &archive{eco: eco})
			if err != nil {
				t.Fatal(err)
			}
			raw += len(advs)
		}
	}
	merged := raw - n
	t.Logf("full exports %v: %d advisories in %v, heap peak ~%d MiB (sampled HeapAlloc over baseline) for a %d MiB snapshot file; per namespace %v; %d duplicate advisories merged away",
		ecos, n, el, (peak-base)>>20, snapLen>>20, counts, merged)
	if merged <= 0 {
		t.Error("no duplicates merged")
	}
}

// zipsOf returns the bytes of eco's zip in a tar snapshot.
func zipsOf(t *testing.T, snap *os.File, eco string) []byte {
	if _, err := snap.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(snap)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == eco+"/all.zip" {
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(tr); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
	}
}
