package redhat_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/redhat"
	"github.com/openclair/clair/vuln"
)

// shared is the project's real test data outside this repository; tests
// that need more of it than testdata/ holds are skipped without it.
const shared = "../../../shared/testdata/feeds/redhat/csaf-vex"

// readDocs reads the VEX documents of dir (gzipped ones unpacked), keyed by
// the path upstream would give them ("2023/cve-2023-38545.json").
func readDocs(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".json.gz") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
			name = strings.TrimSuffix(name, ".gz")
		}
		name = strings.TrimPrefix(name, "claircore-acceptance-")
		year := "2024"
		if f := strings.Split(name, "-"); len(f) > 1 {
			year = f[1]
		}
		out[year+"/"+name] = b
	}
	return out
}

// archive builds a .tar.zst the way Red Hat's archives are laid out.
func archive(t testing.TB, docs map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		if d := filepath.Dir(n); !dirs[d] {
			dirs[d] = true
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755})
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(docs[n]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(docs[n])
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// layout is a VEX directory: the archive and the index files.
type layout struct {
	archiveName string
	archive     []byte
	changes     string // changes.csv
	deletions   string // deletions.csv
	docs        map[string][]byte
}

func (l *layout) files() map[string][]byte {
	m := map[string][]byte{
		"archive_latest.txt": []byte(l.archiveName + "\n"),
		l.archiveName:        l.archive,
		"changes.csv":        []byte(l.changes),
		"deletions.csv":      []byte(l.deletions),
	}
	for p, b := range l.docs {
		m[p] = b
	}
	return m
}

func (l *layout) writeDir(t testing.TB, dir string) {
	t.Helper()
	for p, b := range l.files() {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// server serves a layout, counting requests; with etag it answers
// conditional requests for changes.csv as Red Hat's CDN does.
type server struct {
	mu   sync.Mutex
	l    *layout
	etag bool
	reqs []string
	// truncate cuts the archive's body short.
	truncate bool
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r.URL.Path)
	files := s.l.files()
	s.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/vex/")
	b, ok := files[p]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if s.etag {
		tag := fmt.Sprintf(`"%x"`, len(b))
		if p == "changes.csv" {
			tag = fmt.Sprintf(`"%s"`, feed.Digest(string(b))[:16])
		}
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if s.truncate && strings.HasSuffix(p, ".tar.zst") {
		b = b[:len(b)/2]
	}
	w.Write(b)
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.reqs
	s.reqs = nil
	return out
}

// snapshotOf fetches the documents of dir through a file:// mirror.
func snapshotOf(t testing.TB, dir string) []byte {
	t.Helper()
	docs := readDocs(t, dir)
	l := &layout{archiveName: "csaf_vex_2025-01-01.tar.zst", archive: archive(t, docs)}
	mirror := t.TempDir()
	l.writeDir(t, mirror)
	var buf bytes.Buffer
	if _, err := redhat.New().Fetch(context.Background(), nil, "file://"+filepath.ToSlash(mirror), "", &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// snapshotDocs lists the documents of a snapshot.
func snapshotDocs(t *testing.T, snap []byte) map[string][]byte {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

func parseAll(t testing.TB, snap []byte) []*vuln.Advisory {
	t.Helper()
	var out []*vuln.Advisory
	err := redhat.New().Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRegistered(t *testing.T) {
	f, ok := feed.Lookup(redhat.Name)
	if !ok || f.DefaultURL() != redhat.DefaultURL {
		t.Fatalf("feed %q not registered", redhat.Name)
	}
}

// TestFetchHTTP serves a VEX directory built from real documents: the
// archive holds three of them, changes.csv names one changed since the
// archive day (served newer), one older change (already in the archive, not
// downloaded), and one new document; deletions.csv removes one.
func TestFetchHTTP(t *testing.T) {
	docs := readDocs(t, "testdata/vex")
	const (
		curl    = "2023/cve-2023-38545.json"
		openssl = "2024/cve-2024-0727-openssl.json"
		small   = "2021/cve-2021-0084.json"
		gone    = "2024/cve-2024-22047.json"
		added   = "2026/cve-2026-0968.json"
	)
	for _, p := range []string{curl, openssl, small, gone, added} {
		if docs[p] == nil {
			t.Fatalf("testdata has no %s", p)
		}
	}
	inArchive := map[string][]byte{curl: docs[curl], small: docs[small], gone: docs[gone], openssl: []byte(`{"stale": true}`)}
	l := &layout{
		archiveName: "csaf_vex_2025-03-01.tar.zst",
		archive:     archive(t, inArchive),
		changes: `"2024/cve-2024-0727-openssl.json","2025-03-02T10:00:00+00:00"
"2026/cve-2026-0968.json","2025-03-03T08:00:00+00:00"
"2021/cve-2021-0084.json","2025-02-20T08:00:00+00:00"
`,
		deletions: `"2024/cve-2024-22047.json","2025-03-02T12:00:00+00:00"
`,
		docs: map[string][]byte{openssl: docs[openssl], added: docs[added], small: []byte("not served: older than the archive")},
	}
	for _, etag := range []bool{true, false} {
		t.Run(fmt.Sprintf("etag=%v", etag), func(t *testing.T) {
			s := &server{l: l, etag: etag}
			ts := httptest.NewServer(s)
			defer ts.Close()
			f := redhat.New()
			var buf bytes.Buffer
			fp, err := f.Fetch(context.Background(), ts.Client(), ts.URL+"/vex", "", &buf)
			if err != nil {
				t.Fatal(err)
			}
			reqs := s.requests()
			slices.Sort(reqs)
			want := []string{"/vex/2024/cve-2024-0727-openssl.json", "/vex/2026/cve-2026-0968.json", "/vex/archive_latest.txt", "/vex/changes.csv", "/vex/csaf_vex_2025-03-01.tar.zst", "/vex/deletions.csv"}
			if !slices.Equal(reqs, want) {
				t.Errorf("requests\n%v\nwant\n%v", reqs, want)
			}
			if !strings.Contains(fp, "csaf_vex_2025-03-01.tar.zst") || !strings.Contains(fp, "2025-03-03T08:00:00Z") {
				t.Errorf("fingerprint %s lacks the archive or the latest change", fp)
			}
			got := snapshotDocs(t, buf.Bytes())
			for p, b := range map[string][]byte{curl: docs[curl], small: docs[small], openssl: docs[openssl], added: docs[added]} {
				if !bytes.Equal(got[p], b) {
					t.Errorf("%s: snapshot holds %d bytes, want the %d of the current document", p, len(got[p]), len(b))
				}
			}
			if _, ok := got[gone]; ok {
				t.Errorf("deleted %s is in the snapshot", gone)
			}
			advs := parseAll(t, buf.Bytes())
			if len(advs) == 0 {
				t.Fatal("no advisories")
			}

			// Unchanged: one request.
			buf.Reset()
			if _, err := f.Fetch(context.Background(), ts.Client(), ts.URL+"/vex", fp, &buf); !errors.Is(err, feed.ErrUnchanged) {
				t.Fatalf("second fetch: %v, want ErrUnchanged", err)
			}
			if reqs := s.requests(); len(reqs) != 1 || reqs[0] != "/vex/changes.csv" {
				t.Errorf("unchanged check made requests %v, want one for changes.csv", reqs)
			}

			// A new change: fetched again.
			s.mu.Lock()
			l2 := *l
			l2.changes = `"2023/cve-2023-38545.json","2025-03-04T08:00:00+00:00"` + "\n" + l.changes
			l2.docs = map[string][]byte{curl: docs[curl], openssl: docs[openssl], added: docs[added]}
			s.l = &l2
			s.mu.Unlock()
			fp2, err := f.Fetch(context.Background(), ts.Client(), ts.URL+"/vex", fp, io.Discard)
			if err != nil || fp2 == fp {
				t.Errorf("after a change: fingerprint %s, %v", fp2, err)
			}
			s.mu.Lock()
			s.l = l
			s.mu.Unlock()
		})
	}
}

// TestFetchTruncated: a download cut short is an error, and nothing is
// emitted from what was written.
func TestFetchTruncated(t *testing.T) {
	docs := readDocs(t, "testdata/vex")
	l := &layout{archiveName: "csaf_vex_2025-03-01.tar.zst", archive: archive(t, docs)}
	s := &server{l: l, truncate: true}
	ts := httptest.NewServer(s)
	defer ts.Close()
	var buf bytes.Buffer
	_, err := redhat.New().Fetch(context.Background(), ts.Client(), ts.URL+"/vex/", "", &buf)
	if err == nil {
		t.Fatal("truncated archive: no error")
	}
	t.Log(err)
	n := 0
	perr := redhat.New().Parse(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), func(*vuln.Advisory) error { n++; return nil })
	if perr == nil {
		t.Error("Parse accepted the partial snapshot")
	}

	// A snapshot cut short after whole documents is refused too.
	full := snapshotOf(t, "testdata/vex")
	for _, cut := range []int{len(full) / 3, len(full) - 40} {
		if err := redhat.New().Parse(context.Background(), bytes.NewReader(full[:cut]), int64(cut), func(*vuln.Advisory) error { return nil }); err == nil {
			t.Errorf("snapshot cut at %d of %d bytes: no error", cut, len(full))
		}
	}
}

func TestFetchEmptyAndBadIndex(t *testing.T) {
	for name, l := range map[string]*layout{
		"no documents":  {archiveName: "csaf_vex_2025-03-01.tar.zst", archive: archive(t, map[string][]byte{})},
		"bad archive":   {archiveName: "../../etc/passwd", archive: nil},
		"bad changes":   {archiveName: "csaf_vex_2025-03-01.tar.zst", archive: archive(t, map[string][]byte{"2024/a.json": []byte("{}")}), changes: `"2024/a.json","yesterday"`},
		"not zstd data": {archiveName: "csaf_vex_2025-03-01.tar.zst", archive: []byte("plain text, not an archive")},
	} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(&server{l: l})
			defer ts.Close()
			if _, err := redhat.New().Fetch(context.Background(), ts.Client(), ts.URL+"/vex/", "", io.Discard); err == nil {
				t.Error("no error")
			} else {
				t.Log(err)
			}
		})
	}
}

// TestParseReal checks advisories against what the real documents say.
func TestParseReal(t *testing.T) {
	advs := parseAll(t, snapshotOf(t, "testdata/vex"))
	type key struct {
		name, ns, pkg, module string
		state                 vuln.State
		fixed                 string
	}
	byKey := map[key]*vuln.Advisory{}
	for _, a := range advs {
		if a.VersionFormat != "rpm" || !strings.HasPrefix(a.Namespace, "rhel:") {
			t.Errorf("%s %s: format %q namespace %q", a.Name, a.Package, a.VersionFormat, a.Namespace)
		}
		k := key{a.Name, a.Namespace, a.Package, a.Module, a.State, a.FixedIn}
		if byKey[k] != nil {
			t.Errorf("duplicate %+v", k)
		}
		byKey[k] = a
	}
	t.Logf("%d advisories", len(advs))

	// CVE-2023-38545, RHSA-2023:6745: libcurl fixed for RHEL 9 BaseOS and
	// AppStream (AppStream-9.3.0.Z.MAIN, BaseOS-9.3.0.Z.MAIN).
	a := byKey[key{"CVE-2023-38545", "rhel:9", "libcurl", "", vuln.StateAffected, "0:7.76.1-26.el9_3.2"}]
	if a == nil {
		t.Fatal("CVE-2023-38545 libcurl rhel:9 0:7.76.1-26.el9_3.2 missing")
	}
	if !slices.Equal(a.Arches, []string{"aarch64", "i686", "ppc64le", "s390x", "x86_64"}) {
		t.Errorf("arches %v", a.Arches)
	}
	if !slices.Equal(a.Repositories, []string{"cpe:/a:redhat:enterprise_linux:9::appstream", "cpe:/o:redhat:enterprise_linux:9::baseos"}) {
		t.Errorf("repositories %v", a.Repositories)
	}
	if a.Severity != "Important" || a.NormalizedSeverity != vuln.High {
		t.Errorf("severity %q %v", a.Severity, a.NormalizedSeverity)
	}
	if !slices.Contains(a.Links, "https://access.redhat.com/errata/RHSA-2023:6745") || !slices.Contains(a.Aliases, "RHSA-2023:6745") {
		t.Errorf("links %v aliases %v", a.Links, a.Aliases)
	}
	if !strings.Contains(a.Description, "SOCKS5") || a.Issued.IsZero() {
		t.Errorf("description %q issued %v", a.Description, a.Issued)
	}
	if len(a.Ranges) != 1 || a.Ranges[0].Fixed != a.FixedIn {
		t.Errorf("ranges %+v", a.Ranges)
	}
	// The 9.0 EUS fix is its own advisory, for the EUS CPEs only.
	if a := byKey[key{"CVE-2023-38545", "rhel:9", "libcurl", "", vuln.StateAffected, "0:7.76.1-14.el9_0.9"}]; a == nil ||
		!slices.Equal(a.Repositories, []string{"cpe:/a:redhat:rhel_eus:9.0::appstream", "cpe:/o:redhat:rhel_eus:9.0::baseos"}) {
		t.Errorf("EUS fix: %+v", a)
	}
	// RHEL 8's curl is not affected (known_not_affected, red_hat_enterprise_linux_8:curl).
	if byKey[key{"CVE-2023-38545", "rhel:8", "curl", "", vuln.StateNotAffected, ""}] == nil {
		t.Error("CVE-2023-38545 curl rhel:8 not_affected missing")
	}
	// Source rpms are not advisories of their own.
	for _, a := range advs {
		if slices.Contains(a.Arches, "src") {
			t.Errorf("source rpm statement %s %s %s", a.Name, a.Package, a.FixedIn)
		}
		if strings.HasPrefix(a.Package, "kernel") {
			t.Errorf("kernel statement %s %s", a.Name, a.Package)
		}
	}

	// CVE-2024-0727: openssl 1:3.0.7-27.el9 from RHEL 9.4 GA (no erratum),
	// and RHEL 6's openssl, out of support scope: will not fix.
	if a := byKey[key{"CVE-2024-0727", "rhel:9", "openssl-libs", "", vuln.StateAffected, "1:3.0.7-27.el9"}]; a == nil || a.Severity != "Low" || a.NormalizedSeverity != vuln.Low {
		t.Errorf("CVE-2024-0727 openssl-libs rhel:9: %+v", a)
	}
	var states []string
	for k := range byKey {
		if k.name == "CVE-2024-0727" && k.ns == "rhel:6" && k.pkg == "openssl" {
			states = append(states, string(k.state))
		}
	}
	if !slices.Equal(states, []string{"will_not_fix"}) {
		t.Errorf("CVE-2024-0727 openssl rhel:6: states %v, want will_not_fix", states)
	}
}

// TestParseShared parses every real VEX document of the shared test data
// (15 CVEs, the largest 1.2 MB) and reports the time.
func TestParseShared(t *testing.T) {
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	snap := snapshotOf(t, shared)
	start := time.Now()
	advs := parseAll(t, snap)
	t.Logf("%d documents, %d bytes of snapshot: %d advisories in %v", len(readDocs(t, shared)), len(snap), len(advs), time.Since(start))
	states := map[vuln.State]int{}
	for _, a := range advs {
		states[a.State]++
		if a.Module != "" && strings.Count(a.Module, ":") != 1 {
			t.Errorf("%s %s: module %q", a.Name, a.Package, a.Module)
		}
	}
	t.Logf("by state: %v", states)
	for _, s := range []vuln.State{vuln.StateAffected, vuln.StateUnfixed, vuln.StateNotAffected, vuln.StateWontFix} {
		if states[s] == 0 {
			t.Errorf("no %s advisory", s)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	if _, err := os.Stat(shared); err != nil {
		b.Skipf("shared test data absent: %v", err)
	}
	snap := snapshotOf(b, shared)
	b.SetBytes(int64(len(snap)))
	for b.Loop() {
		parseAll(b, snap)
	}
}

// TestFetchFileMirror reads a mirror directory through a file:// URL (and a
// plain path); an untouched mirror is unchanged without reading the archive.
func TestFetchFileMirror(t *testing.T) {
	docs := readDocs(t, "testdata/vex")
	l := &layout{archiveName: "csaf_vex_2025-03-01.tar.zst", archive: archive(t, docs),
		changes: `"2024/cve-2024-22047.json","2025-03-02T10:00:00+00:00"` + "\n",
		docs:    map[string][]byte{"2024/cve-2024-22047.json": docs["2024/cve-2024-22047.json"]}}
	dir := t.TempDir()
	l.writeDir(t, dir)
	f := redhat.New()
	var buf bytes.Buffer
	fp, err := f.Fetch(context.Background(), nil, dir, "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshotDocs(t, buf.Bytes()); len(got) != len(docs)+1 { // and the trailer
		t.Errorf("%d snapshot entries for %d documents", len(got), len(docs))
	}
	if _, err := f.Fetch(context.Background(), nil, "file://"+filepath.ToSlash(dir)+"/", fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Errorf("untouched mirror: %v, want ErrUnchanged", err)
	}
}
