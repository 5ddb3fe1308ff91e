package repo2cpe

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/vuln"
)

// realMapping returns Red Hat's real repository-to-cpe.json (last_updated
// 2023-10-25, 8,564 content sets; see shared/testdata/SOURCES.md), which the
// shared test data keeps gzipped; the test is skipped where it is absent.
func realMapping(t *testing.T) []byte {
	t.Helper()
	p := sharedtest.Path(t, "feeds/redhat/repository-to-cpe.json.gz")
	zf, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	zr, err := gzip.NewReader(zf)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return b
}

func parseBytes(t testing.TB, b []byte) ([]*vuln.Advisory, error) {
	t.Helper()
	var out []*vuln.Advisory
	err := New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

func byName(as []*vuln.Advisory) map[string]*vuln.Advisory {
	m := make(map[string]*vuln.Advisory, len(as))
	for _, a := range as {
		m[a.Package] = a
	}
	return m
}

func TestRegistered(t *testing.T) {
	f, ok := feed.Lookup(Name)
	if !ok {
		t.Fatalf("feed %q not registered", Name)
	}
	if f.DefaultURL() != "https://security.access.redhat.com/data/metrics/repository-to-cpe.json" {
		t.Errorf("DefaultURL %q", f.DefaultURL())
	}
}

// TestFetchParseReal serves the real mapping over HTTP, fetches it as an
// update does, parses the snapshot, and checks that an unchanged mapping
// costs one request.
func TestFetchParseReal(t *testing.T) {
	b := realMapping(t)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/data/metrics/repository-to-cpe.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"2023-10-25T00:44:58"`)
		// ServeContent answers If-None-Match with 304.
		http.ServeContent(w, r, "repository-to-cpe.json", time.Date(2023, 10, 25, 0, 44, 58, 0, time.UTC), bytes.NewReader(b))
	}))
	defer srv.Close()
	ctx := context.Background()
	f := New()
	url := srv.URL + "/data/metrics/repository-to-cpe.json"

	var snap bytes.Buffer
	fp, err := f.Fetch(ctx, srv.Client(), url, "", &snap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap.Bytes(), b) {
		t.Fatal("snapshot differs from the served document")
	}
	as, err := parseBytes(t, snap.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 8564 {
		t.Errorf("%d content sets, want 8564", len(as))
	}
	for _, a := range as {
		if a.Feed != Name || a.Namespace != Namespace || a.Package != a.Name || a.VersionFormat != "rpm" ||
			a.State != vuln.StateNotAffected || len(a.Repositories) == 0 || len(a.Ranges) != 0 || a.FixedIn != "" {
			t.Fatalf("row %+v", a)
		}
	}
	m := byName(as)
	for cs, want := range map[string][]string{
		"rhel-9-for-x86_64-baseos-rpms":    {"cpe:/o:redhat:enterprise_linux:9::baseos"},
		"rhel-9-for-x86_64-appstream-rpms": {"cpe:/a:redhat:enterprise_linux:9::appstream"},
		"rhel-8-for-x86_64-appstream-rpms": {"cpe:/a:redhat:enterprise_linux:8::appstream", "cpe:/a:redhat:rhel:8.3::appstream"},
	} {
		a := m[cs]
		if a == nil {
			t.Errorf("%s: no row", cs)
			continue
		}
		if !slices.Equal(a.Repositories, want) {
			t.Errorf("%s: CPEs %v, want %v", cs, a.Repositories, want)
		}
	}

	before := requests.Load()
	if _, err := f.Fetch(ctx, srv.Client(), url, fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Fatalf("unchanged mapping: err = %v, want ErrUnchanged", err)
	}
	if n := requests.Load() - before; n != 1 {
		t.Errorf("unchanged mapping: %d requests, want 1", n)
	}

	_, err = f.Fetch(ctx, srv.Client(), srv.URL+"/nope", "", io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "repo2cpe: ") || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: err = %v", err)
	}
}

// TestParseGzipped reads the shared gzipped copy as a mirror might serve it.
func TestParseGzipped(t *testing.T) {
	p := sharedtest.Path(t, "feeds/redhat/repository-to-cpe.json.gz")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	as, err := parseBytes(t, b)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if len(as) != 8564 {
		t.Errorf("%d content sets, want 8564", len(as))
	}
}

func TestParse(t *testing.T) {
	as, err := parseBytes(t, []byte(`{"last_updated": "x", "data": {
		"b-rpms": {"cpes": ["cpe:/o:x:2", " cpe:/o:x:1", "cpe:/o:x:2", ""], "repo_relative_urls": ["content/b"]},
		"no-cpes-rpms": {"cpes": []},
		"null-cpes-rpms": {"cpes": null},
		"a-rpms": {"cpes": ["cpe:/a:x:1"], "extra": {"ignored": true}}
	}, "future": [1, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range as {
		got = append(got, a.Package+" "+strings.Join(a.Repositories, ","))
	}
	want := []string{"b-rpms cpe:/o:x:1,cpe:/o:x:2", "a-rpms cpe:/a:x:1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"empty", ``, []string{"repo2cpe:", "top level", "unexpected EOF"}},
		{"not an object", `[1]`, []string{"repo2cpe:", "top level", `want "{"`}},
		{"no data", `{"last_updated": "x"}`, []string{"no \"data\""}},
		{"data null", `{"data": null}`, []string{"data", "got null"}},
		{"empty data", `{"data": {}}`, []string{"maps no content set"}},
		{"only empty sets", `{"data": {"a": {"cpes": []}}}`, []string{"maps no content set"}},
		{"data twice", `{"data": {"a": {"cpes": ["c"]}}, "data": {}}`, []string{"given twice"}},
		{"cpes a string", `{"data": {"a-rpms": {"cpes": "cpe:/o:x"}}}`, []string{`content set "a-rpms"`, "cannot unmarshal"}},
		{"truncated", `{"data": {"a-rpms": {"cpes": ["c"`, []string{`content set "a-rpms"`}},
		{"truncated after set", `{"data": {"a-rpms": {"cpes": ["c"]}`, []string{"end of data"}},
		{"empty name", `{"data": {" ": {"cpes": ["c"]}}}`, []string{"empty content set name"}},
		{"trailing data", `{"data": {"a": {"cpes": ["c"]}}} {}`, []string{"after the top-level object"}},
		{"bad gzip", "\x1f\x8b\x08garbage", []string{"repo2cpe:"}},
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
	doc := []byte(`{"data": {"a-rpms": {"cpes": ["c"]}}}`)
	stop := errors.New("stop")
	err := New().Parse(context.Background(), bytes.NewReader(doc), int64(len(doc)), func(*vuln.Advisory) error { return stop })
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "a-rpms") {
		t.Errorf("err = %v, want the emit error naming the content set", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := New().Parse(ctx, bytes.NewReader(doc), int64(len(doc)), func(*vuln.Advisory) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"data": {"rhel-9-for-x86_64-baseos-rpms": {"cpes": ["cpe:/o:redhat:enterprise_linux:9::baseos"], "repo_relative_urls": ["content/dist/rhel9/9/x86_64/baseos/os"]}}, "last_updated": "2023-10-25T00:44:58.035Z"}`))
	f.Add([]byte(`{"data": {"a": {"cpes": []}, "b": {"cpes": null}, "c": {"cpes": ["x", "x", " "]}}}`))
	f.Add([]byte(`{"data": {}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := parseBytes(t, b)
		if err != nil {
			return
		}
		if len(as) == 0 {
			t.Fatal("no error and no rows")
		}
		for _, a := range as {
			if a.Namespace != Namespace || a.Package == "" || a.Package != a.Name || len(a.Repositories) == 0 || a.State != vuln.StateNotAffected {
				t.Fatalf("row %+v", a)
			}
		}
	})
}
