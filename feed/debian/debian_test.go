package debian

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

// excerpt is a real tracker JSON excerpt (see testdata/SOURCES.md).
const excerpt = "testdata/tracker-excerpt.json"

// fullTracker is the 30 MB tracker-shaped document rebuilt from Debian's
// OSV export; it lives in the shared test data, outside the repository.
const fullTracker = "../../../shared/testdata/feeds/debian/tracker-json-from-osv.json.gz"

func parseBytes(t testing.TB, b []byte) ([]*vuln.Advisory, error) {
	t.Helper()
	var out []*vuln.Advisory
	err := New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

func find(as []*vuln.Advisory, ns, pkg, name string) *vuln.Advisory {
	for _, a := range as {
		if a.Namespace == ns && a.Package == pkg && a.Name == name {
			return a
		}
	}
	return nil
}

func countByNamespace(as []*vuln.Advisory) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		m[a.Namespace]++
	}
	return m
}

func TestRegistered(t *testing.T) {
	f, ok := feed.Lookup("debian")
	if !ok {
		t.Fatal("debian feed not registered")
	}
	if f.Name() != "debian" || f.DefaultURL() != "https://security-tracker.debian.org/tracker/data/json" {
		t.Errorf("Name %q, DefaultURL %q", f.Name(), f.DefaultURL())
	}
}

func TestParseExcerpt(t *testing.T) {
	b, err := os.ReadFile(excerpt)
	if err != nil {
		t.Fatal(err)
	}
	as, err := parseBytes(t, b)
	if err != nil {
		t.Fatal(err)
	}
	// Counted by hand from the file: one advisory per (package, CVE,
	// release); chromium-browser has "releases": [] and yields nothing.
	want := map[string]int{"debian:8": 4, "debian:9": 5, "debian:10": 5, "debian:11": 2, "debian:12": 2, "debian:13": 1, "debian:unstable": 6}
	if got := countByNamespace(as); !reflect.DeepEqual(got, want) {
		t.Errorf("per namespace = %v, want %v", got, want)
	}

	for _, tc := range []struct {
		ns, pkg, name string
		want          vuln.Advisory
	}{
		{"debian:9", "prototypejs", "CVE-2007-2383", vuln.Advisory{
			State: vuln.StateNotAffected, Severity: "unimportant", NormalizedSeverity: vuln.Negligible,
		}},
		{"debian:10", "txt2man", "CVE-2013-1444", vuln.Advisory{
			State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "1.5.5-4.1"}}, FixedIn: "1.5.5-4.1",
			Severity: "low", NormalizedSeverity: vuln.Low,
		}},
		{"debian:unstable", "prototypejs", "CVE-2008-7220", vuln.Advisory{
			State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "1.6.0.2-1"}}, FixedIn: "1.6.0.2-1",
			Severity: "high", NormalizedSeverity: vuln.High,
		}},
		{"debian:10", "chromium", "CVE-2022-0456", vuln.Advisory{
			State: vuln.StateUnfixed, Severity: "end-of-life", NormalizedSeverity: vuln.Unknown,
		}},
		{"debian:11", "chromium", "CVE-2022-0456", vuln.Advisory{
			State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "98.0.4758.80-1~deb11u1"}}, FixedIn: "98.0.4758.80-1~deb11u1",
			Severity: "not yet assigned", NormalizedSeverity: vuln.Unknown,
		}},
		{"debian:12", "sope", "CVE-2025-53603", vuln.Advisory{
			State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "5.8.0-1+deb12u1"}}, FixedIn: "5.8.0-1+deb12u1",
			Severity: "not yet assigned", NormalizedSeverity: vuln.Unknown,
		}},
		{"debian:8", "backupninja", "CVE-2005-3111", vuln.Advisory{
			State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "0.8-2"}}, FixedIn: "0.8-2",
			Severity: "medium", NormalizedSeverity: vuln.Medium,
		}},
	} {
		got := find(as, tc.ns, tc.pkg, tc.name)
		if got == nil {
			t.Errorf("%s %s %s: missing", tc.ns, tc.pkg, tc.name)
			continue
		}
		want := tc.want
		want.Name, want.Namespace, want.Package, want.VersionFormat = tc.name, tc.ns, tc.pkg, "dpkg"
		want.Links = []string{"https://security-tracker.debian.org/tracker/" + tc.name}
		want.Description = got.Description // checked below
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%s %s %s:\n got %+v\nwant %+v", tc.ns, tc.pkg, tc.name, *got, want)
		}
	}
	if a := find(as, "debian:9", "prototypejs", "CVE-2008-7220"); a == nil || !strings.HasPrefix(a.Description, "Unspecified vulnerability in Prototype JavaScript framework") {
		t.Errorf("description not kept: %+v", a)
	}

	// Deterministic order: parsing twice gives the same sequence.
	again, _ := parseBytes(t, b)
	if !reflect.DeepEqual(as, again) {
		t.Error("two parses of one snapshot differ")
	}
}

// TestParseCases covers tracker features the real excerpt lacks. The input
// is hand-written in the tracker's shape.
func TestParseCases(t *testing.T) {
	const doc = `{
 "ansible": {
  "TEMP-0000000-1A2B3C": {"description": "no CVE yet", "releases": {
    "bookworm": {"status": "open", "urgency": "low*", "repositories": {"bookworm": "2.14.3-1"}}}},
  "CVE-2020-1": {"releases": {
    "bookworm": {"status": "open", "urgency": "unimportant", "nodsa": "Minor issue", "nodsa_reason": "ignored"},
    "bullseye": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "postponed"},
    "buster": {"status": "undetermined", "urgency": "not yet assigned"},
    "squeeze-lts": {"status": "resolved", "fixed_version": "1"},
    "experimental": {"status": "resolved", "fixed_version": "1"},
    "trixie": {"status": "mystery", "urgency": "high"},
    "forky": {"status": "resolved", "urgency": " Medium "},
    "sid": {"status": "resolved", "fixed_version": "2.0-1", "urgency": "medium**"}}}
 },
 "empty": {}
}`
	as, err := parseBytes(t, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range as {
		got[a.Namespace+" "+a.Name] = fmt.Sprintf("%s %q %s %v", a.State, a.Severity, a.NormalizedSeverity, a.Ranges)
	}
	want := map[string]string{
		"debian:12 TEMP-0000000-1A2B3C": `unfixed "low" Low []`,
		"debian:12 CVE-2020-1":          `will_not_fix "unimportant" Negligible []`,
		"debian:11 CVE-2020-1":          `unfixed "low" Low []`,
		"debian:10 CVE-2020-1":          `unfixed "not yet assigned" Unknown []`,
		"debian:unstable CVE-2020-1":    `affected "medium" Medium [{ 2.0-1 }]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if a := find(as, "debian:12", "ansible", "TEMP-0000000-1A2B3C"); a == nil || a.Links[0] != "https://security-tracker.debian.org/tracker/TEMP-0000000-1A2B3C" {
		t.Errorf("TEMP id link: %+v", a)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"empty", ``, []string{"debian:", "top level", "unexpected EOF"}},
		{"not an object", `[1]`, []string{"debian:", "top level", "want \"{\""}},
		{"truncated", `{"openssl": {"CVE-2023-1": {"releases": {"bookworm": {"status": "open"`, []string{"debian:", `package "openssl"`}},
		{"truncated after package", `{"openssl": {}`, []string{"debian:", "end of top level"}},
		{"package not an object", `{"openssl": [1]}`, []string{"debian:", `package "openssl"`, "cannot unmarshal array"}},
		{"status a number", `{"openssl": {"CVE-2023-1": {"releases": {"bookworm": {"status": 5}}}}}`,
			[]string{"debian:", `package "openssl"`, "CVE-2023-1", "releases: bookworm", "status"}},
		{"releases a string", `{"openssl": {"CVE-2023-1": {"releases": "x"}}}`,
			[]string{`package "openssl"`, "CVE-2023-1", "releases"}},
		{"releases a non-empty array", `{"openssl": {"CVE-2023-1": {"releases": [1]}}}`,
			[]string{`package "openssl"`, "CVE-2023-1", "releases", "array"}},
		{"description a number", `{"openssl": {"CVE-2023-1": {"description": 1}}}`,
			[]string{`package "openssl"`, "CVE-2023-1", "description"}},
		{"duplicate package", `{"a": {}, "a": {}}`, []string{`package "a"`, "twice"}},
		{"trailing data", `{} {}`, []string{"after the top-level object"}},
		{"empty package name", `{"": {}}`, []string{"empty source package name"}},
		{"empty id", `{"a": {"": {}}}`, []string{`package "a"`, "empty issue id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseBytes(t, []byte(tc.doc))
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

func TestParseEmitError(t *testing.T) {
	b, _ := os.ReadFile(excerpt)
	stop := errors.New("stop")
	err := New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(*vuln.Advisory) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the emit error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := New().Parse(ctx, bytes.NewReader(b), int64(len(b)), func(*vuln.Advisory) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

func TestFetch(t *testing.T) {
	b, err := os.ReadFile(excerpt)
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/tracker/data/json" {
			http.NotFound(w, r)
			return
		}
		// ServeContent answers If-Modified-Since with 304.
		http.ServeContent(w, r, "json", time.Date(2025, 1, 4, 6, 1, 0, 0, time.UTC), bytes.NewReader(b))
	}))
	defer srv.Close()
	f := New()
	ctx := context.Background()

	var buf bytes.Buffer
	fp, err := f.Fetch(ctx, srv.Client(), srv.URL+"/tracker/data/json", "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), b) {
		t.Fatal("snapshot differs from the served document")
	}
	if _, err := f.Fetch(ctx, srv.Client(), srv.URL+"/tracker/data/json", fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Fatalf("second fetch: %v", err)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	_, err = f.Fetch(ctx, srv.Client(), srv.URL+"/nope", "", io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "debian: ") || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: err = %v", err)
	}

	abs, _ := filepath.Abs(excerpt)
	buf.Reset()
	fp, err = f.Fetch(ctx, nil, "file://"+abs, "", &buf)
	if err != nil || !bytes.Equal(buf.Bytes(), b) {
		t.Fatalf("file fetch: %v", err)
	}
	if _, err := f.Fetch(ctx, nil, "file://"+abs, fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Errorf("file refetch: %v", err)
	}
}

// unpackFull writes the full tracker document to a temporary file, or skips.
func unpackFull(tb testing.TB) *os.File {
	tb.Helper()
	zf, err := os.Open(fullTracker)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("full tracker document %s absent (it is in the shared test data, not the repository); skipping", fullTracker)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer zf.Close()
	zr, err := gzip.NewReader(zf)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(tb.TempDir(), "tracker.json"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if _, err := io.Copy(f, zr); err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestParseFullTracker parses the 30 MB document as an update would (Fetch
// from a file:// URL into a temporary file, then Parse from it) and checks
// counts, known entries, time and peak heap.
func TestParseFullTracker(t *testing.T) {
	if testing.Short() {
		t.Skip("full tracker: skipped in -short mode")
	}
	src := unpackFull(t)
	runtime.GC()
	start := time.Now()

	snap, err := os.Create(filepath.Join(t.TempDir(), "snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if _, err := New().Fetch(context.Background(), nil, "file://"+src.Name(), "", snap); err != nil {
		t.Fatal(err)
	}
	fi, err := snap.Stat()
	if err != nil {
		t.Fatal(err)
	}

	var (
		ms       runtime.MemStats
		peak     uint64
		n        int
		perNS    = map[string]int{}
		perState = map[vuln.State]int{}
		keep     = map[string]*vuln.Advisory{}
	)
	watch := map[string]bool{
		"debian:12 openssl CVE-2024-9143":     true,
		"debian:11 openssl CVE-2024-9143":     true,
		"debian:13 openssl CVE-2024-9143":     true,
		"debian:12 curl CVE-2025-0167":        true,
		"debian:13 curl CVE-2025-0167":        true,
		"debian:11 glibc CVE-2025-0395":       true,
		"debian:12 389-ds-base CVE-2012-4450": true,
	}
	err = New().Parse(context.Background(), snap, fi.Size(), func(a *vuln.Advisory) error {
		n++
		perNS[a.Namespace]++
		perState[a.State]++
		if k := a.Namespace + " " + a.Package + " " + a.Name; watch[k] {
			keep[k] = a
		}
		if n%2000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	t.Logf("full tracker: %d bytes, %d advisories, fetch+parse %v, peak HeapInuse %.1f MiB (race detector %v)",
		fi.Size(), n, elapsed.Round(time.Millisecond), float64(peak)/(1<<20), raceEnabled)

	// Counted independently (python json over the same file): every
	// release entry is resolved-with-a-version or open, all codenames known.
	wantNS := map[string]int{"debian:10": 269, "debian:11": 33787, "debian:12": 33154, "debian:13": 32841}
	if !reflect.DeepEqual(perNS, wantNS) {
		t.Errorf("per namespace %v, want %v", perNS, wantNS)
	}
	wantState := map[vuln.State]int{vuln.StateAffected: 89560, vuln.StateUnfixed: 10491}
	if !reflect.DeepEqual(perState, wantState) {
		t.Errorf("per state %v, want %v", perState, wantState)
	}
	fixed := func(k, v string) {
		a := keep[k]
		if a == nil || a.State != vuln.StateAffected || a.FixedIn != v || !reflect.DeepEqual(a.Ranges, []vuln.Range{{Fixed: v}}) {
			t.Errorf("%s: got %+v, want fixed in %s", k, a, v)
		}
	}
	unfixed := func(k string) {
		if a := keep[k]; a == nil || a.State != vuln.StateUnfixed || a.FixedIn != "" || a.Ranges != nil {
			t.Errorf("%s: got %+v, want unfixed", k, a)
		}
	}
	fixed("debian:12 openssl CVE-2024-9143", "3.0.15-1~deb12u1")
	fixed("debian:11 openssl CVE-2024-9143", "1.1.1w-0+deb11u2")
	fixed("debian:13 openssl CVE-2024-9143", "3.3.2-2")
	fixed("debian:13 curl CVE-2025-0167", "8.12.0+git20250209.89ed161+ds-1")
	fixed("debian:12 389-ds-base CVE-2012-4450", "1.2.11.15-1")
	unfixed("debian:12 curl CVE-2025-0167")
	unfixed("debian:11 glibc CVE-2025-0395")
	if a := keep["debian:12 389-ds-base CVE-2012-4450"]; a != nil && !strings.HasPrefix(a.Description, "389 Directory Server 1.2.10 does not properly update the ACL") {
		t.Errorf("description: %q", a.Description)
	}

	// Targets of the brief: a whole update under 15 s and 500 MB. The heap
	// bound here is far tighter: a streaming parse of a 30 MB document
	// should not need more than a few tens of megabytes.
	if limit := 15 * time.Second; !raceEnabled && elapsed > limit {
		t.Errorf("fetch+parse took %v, over %v", elapsed, limit)
	}
	if limit := uint64(100 << 20); peak > limit {
		t.Errorf("peak HeapInuse %d MiB, over %d MiB", peak>>20, limit>>20)
	}
}

// BenchmarkParseFullTracker measures Parse of the 30 MB document; run with
// -benchmem. peak-heap-MiB is the largest HeapInuse sampled during a parse.
func BenchmarkParseFullTracker(b *testing.B) {
	f := unpackFull(b)
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	var peak uint64
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := New().Parse(context.Background(), f, fi.Size(), func(*vuln.Advisory) error {
			if n++; n%5000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile(excerpt)
	if err != nil {
		f.Fatal(err)
	}
	// One seed per real package, compacted: small seeds keep the fuzzer
	// mutating instead of spending its time minimizing kilobytes.
	var pkgs map[string]json.RawMessage
	if err := json.Unmarshal(b, &pkgs); err != nil {
		f.Fatal(err)
	}
	names := make([]string, 0, len(pkgs))
	for name := range pkgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := pkgs[name]
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			f.Fatal(err)
		}
		k, _ := json.Marshal(name)
		f.Add([]byte("{" + string(k) + ":" + c.String() + "}"))
	}
	f.Add([]byte(`{"a": {"TEMP-1": {"releases": []}, "CVE-1": {"releases": {"sid": {"status": "open", "nodsa_reason": "ignored"}}}}}`))
	f.Add([]byte(`{"a": {"CVE-1": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "low**"}}}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := parseBytes(t, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "debian: ") {
				t.Fatalf("error without the feed prefix: %v", err)
			}
			return
		}
		keys := make([]string, 0, len(as))
		for _, a := range as {
			if a.Name == "" || a.Package == "" || !strings.HasPrefix(a.Namespace, "debian:") || a.VersionFormat != "dpkg" {
				t.Fatalf("incomplete advisory %+v", a)
			}
			switch a.State {
			case vuln.StateAffected:
				if a.FixedIn == "" || len(a.Ranges) != 1 || a.Ranges[0].Fixed != a.FixedIn {
					t.Fatalf("affected without a fix: %+v", a)
				}
			case vuln.StateUnfixed, vuln.StateWontFix, vuln.StateNotAffected:
				if a.FixedIn != "" || a.Ranges != nil {
					t.Fatalf("%s with a fix: %+v", a.State, a)
				}
			default:
				t.Fatalf("state %q", a.State)
			}
			keys = append(keys, a.Namespace+"\x00"+a.Package+"\x00"+a.Name)
		}
		sort.Strings(keys)
		for i := 1; i < len(keys); i++ {
			if keys[i] == keys[i-1] {
				t.Fatalf("duplicate advisory %q", keys[i])
			}
		}
	})
}
