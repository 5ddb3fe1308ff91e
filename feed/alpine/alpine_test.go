package alpine

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

// excerptDir is one real secdb branch kept in the repository (see
// testdata/SOURCES.md); fullSecdb is the complete secdb in the shared test
// data, outside the repository.
const (
	excerptDir = "testdata/secdb"
	fullSecdb  = "../../../shared/testdata/feeds/alpine/secdb"
)

// Per-namespace advisory counts of the full secdb, counted by an independent
// script (python json, the same id rules) over the same files.
var fullCounts = map[string]int{
	"alpine:edge": 7999, "alpine:v3.10": 2535, "alpine:v3.11": 2896, "alpine:v3.12": 3603, "alpine:v3.13": 4132,
	"alpine:v3.14": 4816, "alpine:v3.15": 5625, "alpine:v3.16": 6495, "alpine:v3.17": 6909, "alpine:v3.18": 7605,
	"alpine:v3.19": 7782, "alpine:v3.2": 305, "alpine:v3.20": 7923, "alpine:v3.21": 7957, "alpine:v3.3": 473,
	"alpine:v3.4": 684, "alpine:v3.5": 956, "alpine:v3.6": 1132, "alpine:v3.7": 1542, "alpine:v3.8": 1795,
	"alpine:v3.9": 2124,
}

func abs(t testing.TB, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func needFull(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(fullSecdb); err != nil {
		t.Skipf("full secdb %s absent (it is in the shared test data, not the repository); skipping", fullSecdb)
	}
	return abs(t, fullSecdb)
}

func parseSnap(t testing.TB, snap []byte) ([]*vuln.Advisory, error) {
	t.Helper()
	var out []*vuln.Advisory
	err := New().Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

func fetch(t testing.TB, c *http.Client, url, prev string) ([]byte, string, error) {
	t.Helper()
	var buf bytes.Buffer
	fp, err := New().Fetch(context.Background(), c, url, prev, &buf)
	return buf.Bytes(), fp, err
}

// tarOf builds a snapshot from (name, content) pairs.
func tarOf(files ...string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: files[i], Mode: 0o644, Size: int64(len(files[i+1]))})
		tw.Write([]byte(files[i+1]))
	}
	tw.Close()
	return buf.Bytes()
}

func find(as []*vuln.Advisory, ns, pkg, name, fixed string) *vuln.Advisory {
	for _, a := range as {
		if a.Namespace == ns && a.Package == pkg && a.Name == name && a.FixedIn == fixed {
			return a
		}
	}
	return nil
}

func counts(as []*vuln.Advisory) (map[string]int, map[vuln.State]int) {
	ns, st := map[string]int{}, map[vuln.State]int{}
	for _, a := range as {
		ns[a.Namespace]++
		st[a.State]++
	}
	return ns, st
}

func TestRegistered(t *testing.T) {
	f, ok := feed.Lookup("alpine")
	if !ok || f.Name() != "alpine" || f.DefaultURL() != "https://secdb.alpinelinux.org/" {
		t.Fatalf("registry: %v %v", f, ok)
	}
}

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		entry          string
		names, aliases []string
	}{
		{"CVE-2019-1547", []string{"CVE-2019-1547"}, nil},
		{"CVE-2019-1234 CVE-2019-5678", []string{"CVE-2019-1234", "CVE-2019-5678"}, nil},
		{"CVE-2017-8903 XSA-213", []string{"CVE-2017-8903"}, []string{"XSA-213"}},
		{"CVE-2018-8897  XSA-260", []string{"CVE-2018-8897"}, []string{"XSA-260"}},
		{"CVE-2020-11740 CVE-2020-11741 XSA-313", []string{"CVE-2020-11740", "CVE-2020-11741"}, []string{"XSA-313"}},
		{"CVE-2020-11501 GNUTLS-SA-2020-03-31 CVE-2020-11501", []string{"CVE-2020-11501"}, []string{"GNUTLS-SA-2020-03-31"}},
		{"GNUTLS-SA-2020-03-31 CVE-2020-11501", []string{"CVE-2020-11501"}, []string{"GNUTLS-SA-2020-03-31"}},
		{"CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI", []string{"CVE-2017-5753", "CVE-2017-5715", "CVE-2017-5754"}, []string{"XSA-254"}},
		{"XSA-207", []string{"XSA-207"}, nil},
		{"GHSA-fhpf-pp6p-55qc", []string{"GHSA-fhpf-pp6p-55qc"}, nil},
		{"ALPINE-13661", []string{"ALPINE-13661"}, nil},
		{"RUSTSEC-2020-0146", []string{"RUSTSEC-2020-0146"}, nil},
		{"wnpa-sec-2017-18", []string{"wnpa-sec-2017-18"}, nil},
		{"CVE-2022-45059 VSV00010", []string{"CVE-2022-45059"}, []string{"VSV00010"}},
		{"CVE-2021-3121 (some note)", []string{"CVE-2021-3121"}, nil},
		{"CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)", []string{"CVE-2018-10103"}, nil},
		{"CVE-2020-14342 (Not affected, requires --with-systemd)", []string{"CVE-2020-14342"}, nil},
		{"CVE-????-????? XSA-312", []string{"XSA-312"}, nil},
		{"CVE N/A ZBX-11023", []string{"ZBX-11023"}, nil},
		{"CVE_2019-2426", []string{"CVE-2019-2426"}, nil},
		{"CVE-2021-35940.patch", []string{"CVE-2021-35940"}, nil},
		{"CVE-2017-17434-1", []string{"CVE-2017-17434"}, nil},
		{"cve-2020-1234", []string{"CVE-2020-1234"}, nil},
		{"CVE-46838", nil, nil},
		{"", nil, nil},
		{"   ", nil, nil},
		{"N/A", nil, nil},
	} {
		names, aliases := ids(tc.entry)
		if !reflect.DeepEqual(names, tc.names) || !reflect.DeepEqual(aliases, tc.aliases) {
			t.Errorf("ids(%q) = %q, %q; want %q, %q", tc.entry, names, aliases, tc.names, tc.aliases)
		}
	}
}

func TestParseExcerpt(t *testing.T) {
	snap, _, err := fetch(t, nil, "file://"+abs(t, excerptDir), "")
	if err != nil {
		t.Fatal(err)
	}
	as, err := parseSnap(t, snap)
	if err != nil {
		t.Fatal(err)
	}
	ns, st := counts(as)
	if want := map[string]int{"alpine:v3.10": 2535}; !reflect.DeepEqual(ns, want) {
		t.Errorf("per namespace %v, want %v", ns, want)
	}
	if want := map[vuln.State]int{vuln.StateAffected: 2527, vuln.StateNotAffected: 8}; !reflect.DeepEqual(st, want) {
		t.Errorf("per state %v, want %v", st, want)
	}
	for _, want := range []vuln.Advisory{
		{Name: "CVE-2019-1547", Package: "openssl", FixedIn: "1.1.1d-r0", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "1.1.1d-r0"}}},
		{Name: "CVE-2021-26720", Package: "avahi", State: vuln.StateNotAffected},
		{Name: "CVE-2018-7540", Package: "xen", FixedIn: "4.10.0-r2", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "4.10.0-r2"}}, Aliases: []string{"XSA-252"}},
		{Name: "XSA-248", Package: "xen", FixedIn: "4.10.0-r1", State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "4.10.0-r1"}}},
	} {
		want.Namespace, want.VersionFormat = "alpine:v3.10", "apk"
		want.NormalizedSeverity = vuln.Unknown
		want.Links = []string{"https://security.alpinelinux.org/vuln/" + want.Name}
		got := find(as, want.Namespace, want.Package, want.Name, want.FixedIn)
		if got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	}
	again, _ := parseSnap(t, snap)
	if !reflect.DeepEqual(as, again) {
		t.Error("two parses of one snapshot differ")
	}
}

// secdbServer serves a secdb tree like secdb.alpinelinux.org: an nginx-style
// autoindex at the root (and per branch), files with ETag and Last-Modified,
// conditional requests answered with 304.
type secdbServer struct {
	root string
	mu   sync.Mutex
	reqs []string
	// bump is added to the dates in the root listing, to simulate an update.
	bump time.Duration
}

func (s *secdbServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

func (s *secdbServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r.URL.Path)
	bump := s.bump
	s.mu.Unlock()
	p := filepath.Join(s.root, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/secdb/")))
	fi, err := os.Stat(p)
	if err != nil || !strings.HasPrefix(r.URL.Path, "/secdb/") {
		http.NotFound(w, r)
		return
	}
	if fi.IsDir() {
		des, _ := os.ReadDir(p)
		var b strings.Builder
		fmt.Fprintf(&b, "<html>\n<head><title>Index of %s</title></head>\n<body>\n<h1>Index of %s</h1><hr><pre><a href=\"../\">../</a>\n", r.URL.Path, r.URL.Path)
		for _, de := range des {
			info, _ := de.Info()
			name, size := de.Name(), fmt.Sprint(info.Size())
			if de.IsDir() {
				name, size = name+"/", "-"
			}
			fmt.Fprintf(&b, "<a href=\"%s\">%s</a>%s %s %19s\n", name, name, strings.Repeat(" ", 50-len(name)),
				info.ModTime().Add(bump).UTC().Format("02-Jan-2006 15:04"), size)
		}
		b.WriteString("</pre><hr></body>\n</html>\n")
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, b.String())
		return
	}
	data, err := os.ReadFile(p)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), bytes.NewReader(data))
}

func TestFetchHTTP(t *testing.T) {
	root := needFull(t)
	s := &secdbServer{root: root}
	srv := httptest.NewServer(s)
	defer srv.Close()
	url := srv.URL + "/secdb/"

	snap, fp, err := fetch(t, srv.Client(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	// The listing, then main and community of 21 branches (v3.2 has no
	// community: a 404 that is not an error).
	if reqs := s.requests(); len(reqs) != 1+21*2 || reqs[0] != "/secdb/" {
		t.Errorf("first fetch: %d requests: %v", len(reqs), reqs)
	}
	as, err := parseSnap(t, snap)
	if err != nil {
		t.Fatal(err)
	}
	if ns, _ := counts(as); !reflect.DeepEqual(ns, fullCounts) {
		t.Errorf("per namespace %v\nwant %v", ns, fullCounts)
	}
	for _, want := range []struct{ ns, pkg, name, fixed string }{
		{"alpine:v3.11", "tcpdump", "CVE-2018-14468", "4.9.3-r0"}, // "CVE-2018-14468 (FrameRelay)"
		{"alpine:v3.11", "gnutls", "CVE-2020-11501", "3.6.10-r1"}, // "GNUTLS-SA-2020-03-31 CVE-2020-11501"
		{"alpine:v3.11", "xen", "XSA-312", "4.13.1-r0"},           // "CVE-????-????? XSA-312"
		{"alpine:v3.18", "openssl", "CVE-2023-0464", "3.1.0-r1"},  // main
		{"alpine:edge", "openssl", "CVE-2023-0464", "3.1.0-r1"},   // edge
	} {
		if find(as, want.ns, want.pkg, want.name, want.fixed) == nil {
			t.Errorf("missing %+v", want)
		}
	}
	if a := find(as, "alpine:v3.11", "gnutls", "CVE-2020-11501", "3.6.10-r1"); a != nil && !reflect.DeepEqual(a.Aliases, []string{"GNUTLS-SA-2020-03-31"}) {
		t.Errorf("aliases %q", a.Aliases)
	}

	// Unchanged: exactly one request, the listing.
	if _, _, err := fetch(t, srv.Client(), url, fp); !errors.Is(err, feed.ErrUnchanged) {
		t.Fatalf("second fetch: %v", err)
	}
	if reqs := s.requests(); len(reqs) != 1 || reqs[0] != "/secdb/" {
		t.Errorf("unchanged fetch: requests %v, want the listing only", reqs)
	}

	// The listing moves (a branch was rewritten): everything is fetched again.
	s.mu.Lock()
	s.bump = time.Hour
	s.mu.Unlock()
	snap2, fp2, err := fetch(t, srv.Client(), url, fp)
	if err != nil || fp2 == fp {
		t.Fatalf("after update: fp %s -> %s, err %v", fp, fp2, err)
	}
	if reqs := s.requests(); len(reqs) != 1+21*2 {
		t.Errorf("changed fetch: %d requests", len(reqs))
	}
	if !bytes.Equal(snap, snap2) {
		t.Error("same files gave a different snapshot")
	}

	// The same tree through file:// gives the same snapshot bytes.
	snapFile, fpFile, err := fetch(t, nil, "file://"+root, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap, snapFile) {
		t.Error("file:// and http snapshots of one tree differ")
	}
	if _, _, err := fetch(t, nil, root, fpFile); !errors.Is(err, feed.ErrUnchanged) {
		t.Errorf("file:// refetch: %v", err)
	}
}

func TestFetchFileChanges(t *testing.T) {
	dir := t.TempDir()
	src := abs(t, excerptDir)
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	snap, fp, err := fetch(t, nil, "file://"+dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr := tar.NewReader(bytes.NewReader(snap)); true {
		var names []string
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			names = append(names, h.Name)
		}
		if want := []string{"v3.10/main.json", "v3.10/community.json"}; !reflect.DeepEqual(names, want) {
			t.Errorf("snapshot entries %v, want %v", names, want)
		}
	}
	if _, _, err := fetch(t, nil, "file://"+dir, fp); !errors.Is(err, feed.ErrUnchanged) {
		t.Fatalf("refetch: %v", err)
	}
	// A branch file rewritten in place changes no directory entry; the
	// file:// fingerprint must still see it.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "v3.10", "main.json"), later, later); err != nil {
		t.Fatal(err)
	}
	if _, fp2, err := fetch(t, nil, "file://"+dir, fp); err != nil || fp2 == fp {
		t.Errorf("after a rewrite: fp2 %s, err %v", fp2, err)
	}

	// No branch at all.
	empty := t.TempDir()
	if _, _, err := fetch(t, nil, "file://"+empty, ""); err == nil || !strings.Contains(err.Error(), "no branch directories") {
		t.Errorf("empty dir: %v", err)
	}
	// Branch directories without files.
	os.Mkdir(filepath.Join(empty, "v3.99"), 0o755)
	if _, _, err := fetch(t, nil, "file://"+empty, ""); err == nil || !strings.Contains(err.Error(), "no secdb files") {
		t.Errorf("empty branches: %v", err)
	}
	if _, _, err := fetch(t, nil, "file://"+filepath.Join(empty, "nope"), ""); err == nil || !strings.HasPrefix(err.Error(), "alpine: ") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	var mu sync.Mutex
	status := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code := status[r.URL.Path]
		mu.Unlock()
		if code != 0 {
			w.WriteHeader(code)
			return
		}
		switch r.URL.Path {
		case "/":
			io.WriteString(w, `<a href="v3.18/">v3.18/</a>`)
		case "/v3.18/main.json":
			io.WriteString(w, `{"distroversion":"v3.18","packages":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if _, _, err := fetch(t, srv.Client(), srv.URL, ""); err != nil {
		t.Fatalf("no community.json must be fine: %v", err)
	}
	mu.Lock()
	status["/v3.18/main.json"] = 503
	mu.Unlock()
	_, _, err := fetch(t, srv.Client(), srv.URL, "")
	if err == nil || !strings.Contains(err.Error(), "v3.18/main.json") || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v", err)
	}
	mu.Lock()
	status["/"] = 500
	mu.Unlock()
	if _, _, err := fetch(t, srv.Client(), srv.URL, ""); err == nil || !strings.HasPrefix(err.Error(), "alpine: ") {
		t.Errorf("listing 500: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap []byte
		want []string
	}{
		{"not a tar", []byte(`{"packages": []}`), []string{"alpine: snapshot"}},
		{"empty tar", tarOf(), []string{"no secdb files"}},
		{"truncated", tarOf("v3.18/main.json", `{"distroversion":"v3.18","packages":[{"pkg":{"name":"a","secfixes":{"1-r0":["CVE-2020-1234"]`),
			[]string{"alpine: v3.18/main.json", "packages[0]", "unexpected EOF"}},
		{"secfixes list is a string", tarOf("v3.18/main.json", `{"distroversion":"v3.18","packages":[{"pkg":{"name":"a","secfixes":{"1-r0":"CVE-2020-1234"}}}]}`),
			[]string{"alpine: v3.18/main.json", "packages[0]", "secfixes"}},
		{"name is a number", tarOf("v3.18/main.json", `{"distroversion":"v3.18","packages":[{"pkg":{"name":1}}]}`),
			[]string{"alpine: v3.18/main.json", "packages[0]", "name"}},
		{"no name", tarOf("v3.18/main.json", `{"distroversion":"v3.18","packages":[{"pkg":{}}]}`),
			[]string{"packages[0]", "pkg.name is empty"}},
		{"packages an object", tarOf("v3.18/main.json", `{"distroversion":"v3.18","packages":{}}`),
			[]string{"alpine: v3.18/main.json", "packages", "want an array"}},
		{"distroversion a number", tarOf("v3.18/main.json", `{"distroversion":3.18,"packages":[]}`),
			[]string{"alpine: v3.18/main.json", "distroversion"}},
		{"no branch anywhere", tarOf("x/main.json", `{"distroversion":"3.18","packages":[]}`),
			[]string{"alpine: x/main.json", "distroversion", `"3.18"`}},
		{"top level array", tarOf("v3.18/main.json", `[]`), []string{"alpine: v3.18/main.json", "top level"}},
		{"trailing data", tarOf("v3.18/main.json", `{} []`), []string{"alpine: v3.18/main.json", "after the top-level object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSnap(t, tc.snap)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseNamespaceFallback(t *testing.T) {
	// distroversion after packages (key order is not guaranteed): the tar
	// directory stands in.
	as, err := parseSnap(t, tarOf("edge/main.json", `{"packages":[{"pkg":{"name":"a","secfixes":{"1-r0":["CVE-2020-1234"], "":["CVE-2020-9999"], "0":[null]}}}],"distroversion":"edge"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Namespace != "alpine:edge" || as[0].Name != "CVE-2020-1234" {
		t.Errorf("got %+v", as)
	}
}

func FuzzParse(f *testing.F) {
	// Seeds from the real files, cut down to a few real packages each and
	// compacted: small seeds keep the fuzzer mutating instead of spending
	// its time minimizing kilobytes.
	for _, p := range []string{"v3.10/main.json", "v3.10/community.json"} {
		b, err := os.ReadFile(filepath.Join(excerptDir, p))
		if err != nil {
			f.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(b, &doc); err != nil {
			f.Fatal(err)
		}
		var pkgs []json.RawMessage
		if err := json.Unmarshal(doc["packages"], &pkgs); err != nil {
			f.Fatal(err)
		}
		for _, pick := range []func(string) bool{
			func(s string) bool { return strings.Contains(s, `"xen"`) },
			func(s string) bool { return strings.Contains(s, `"0"`) },
			func(s string) bool { return len(s) < 300 },
		} {
			for _, pk := range pkgs {
				if pick(string(pk)) {
					doc["packages"] = json.RawMessage("[" + string(pk) + "]")
					seed, _ := json.Marshal(doc)
					f.Add(seed)
					break
				}
			}
		}
	}
	f.Add([]byte(`{"distroversion":"v3.11","packages":[{"pkg":{"name":"xen","secfixes":{"4.13.1-r0":["CVE-????-????? XSA-312","CVE-2018-14468 (FrameRelay)"],"0":["GNUTLS-SA-2020-03-31 CVE-2020-11501"]}}}]}`))
	f.Add([]byte(`{"packages":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := parseSnap(t, tarOf("v3.18/main.json", string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "alpine: ") {
				t.Fatalf("error without the feed prefix: %v", err)
			}
			return
		}
		for _, a := range as {
			if a.Name == "" || a.Package == "" || !strings.HasPrefix(a.Namespace, "alpine:") || a.VersionFormat != "apk" {
				t.Fatalf("incomplete advisory %+v", a)
			}
			if strings.ContainsAny(a.Name, " \t\n()") {
				t.Fatalf("name %q is not an id", a.Name)
			}
			switch a.State {
			case vuln.StateAffected:
				if a.FixedIn == "" || len(a.Ranges) != 1 || a.Ranges[0].Fixed != a.FixedIn {
					t.Fatalf("affected without a fix: %+v", a)
				}
			case vuln.StateNotAffected:
				if a.FixedIn != "" || a.Ranges != nil {
					t.Fatalf("not affected with a fix: %+v", a)
				}
			default:
				t.Fatalf("state %q", a.State)
			}
		}
	})
}
