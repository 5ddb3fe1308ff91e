package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The secdb.alpinelinux.org front page as nginx's autoindex writes it
// (layout of the real page; the dates are illustrative).
const nginxIndex = `<html>
<head><title>Index of /</title></head>
<body>
<h1>Index of /</h1><hr><pre><a href="../">../</a>
<a href="edge/">edge/</a>                                              04-Jan-2025 06:01                   -
<a href="v3.10/">v3.10/</a>                                             20-Oct-2021 14:27                   -
<a href="v3.18/">v3.18/</a>                                             04-Jan-2025 06:01                   -
<a href="last-update">last-update</a>                                        04-Jan-2025 06:01                  11
<a href="license.txt">license.txt</a>                                        29-Mar-2020 06:27                 187
</pre><hr></body>
</html>
`

func TestGetHTTP(t *testing.T) {
	body := []byte(`{"hello":"world"}`)
	etag := `"abc"`
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Sat, 04 Jan 2025 06:01:00 GMT")
		w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()

	var buf bytes.Buffer
	fp, err := Get(ctx, srv.Client(), srv.URL+"/data.json", "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("body = %q", buf.Bytes())
	}
	if !strings.Contains(fp, `"etag":"\"abc\""`) || !strings.Contains(fp, "sha256") {
		t.Errorf("fingerprint %s lacks etag or sha256", fp)
	}

	buf.Reset()
	_, err = Get(ctx, srv.Client(), srv.URL+"/data.json", fp, &buf)
	if !errors.Is(err, ErrUnchanged) {
		t.Fatalf("second Get: err = %v, want ErrUnchanged", err)
	}
	if buf.Len() != 0 {
		t.Errorf("304 wrote %d bytes", buf.Len())
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestGetHTTPNoValidators(t *testing.T) {
	body := "v1"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			t.Errorf("conditional headers sent without validators: %v", r.Header)
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	ctx := context.Background()

	var buf bytes.Buffer
	fp, err := Get(ctx, srv.Client(), srv.URL, "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	// Same bytes, no validators: unchanged by content hash.
	if _, err := Get(ctx, srv.Client(), srv.URL, fp, &buf); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("err = %v, want ErrUnchanged", err)
	}
	body = "v2"
	buf.Reset()
	fp2, err := Get(ctx, srv.Client(), srv.URL, fp, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if fp2 == fp || buf.String() != "v2" {
		t.Errorf("changed body: fp %s -> %s, body %q", fp, fp2, buf.String())
	}
}

func TestGetHTTPValidatorsChangeContentSame(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, n)) // a server that rotates ETags
		fmt.Fprint(w, "same")
	}))
	defer srv.Close()
	var buf bytes.Buffer
	fp, err := Get(context.Background(), srv.Client(), srv.URL, "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	// New validators must be learnt, or every later check would download.
	fp2, err := Get(context.Background(), srv.Client(), srv.URL, fp, &buf)
	if err != nil || fp2 == fp {
		t.Fatalf("fp2 = %s, err = %v; want a new fingerprint", fp2, err)
	}
}

func TestGetHTTPErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/stray304":
			w.WriteHeader(http.StatusNotModified)
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 200))
		case "/slow":
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	var buf bytes.Buffer

	_, err := Get(ctx, srv.Client(), srv.URL+"/missing", "", &buf)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 || !errors.Is(err, fs.ErrNotExist) || !IsNotExist(err) {
		t.Errorf("404: err = %v", err)
	}
	if err != nil && !strings.Contains(err.Error(), srv.URL+"/missing") {
		t.Errorf("404 error does not name the URL: %v", err)
	}
	_, err = Get(ctx, srv.Client(), srv.URL+"/broken", "", &buf)
	if err == nil || !strings.Contains(err.Error(), "500") || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("500: err = %v", err)
	}
	if _, err = Get(ctx, srv.Client(), srv.URL+"/stray304", "", &buf); err == nil || errors.Is(err, ErrUnchanged) {
		t.Errorf("unasked-for 304: err = %v, want an error", err)
	}

	old := MaxBodySize
	MaxBodySize = 100
	_, err = Get(ctx, srv.Client(), srv.URL+"/big", "", &buf)
	MaxBodySize = old
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized body: err = %v", err)
	}

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err = Get(cctx, srv.Client(), srv.URL+"/slow", "", &buf); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: err = %v", err)
	}
}

func TestGetURLs(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"ftp://example.com/x", `feed: ftp://example.com/x: unsupported URL scheme "ftp"`},
		{"foo", `feed: foo: unsupported URL scheme ""`},
		{"file://host/x", `file URL with host "host"`},
		{"file:relative", `absolute path`},
		{"http:///nohost", `no host`},
		{"https://user:secret@example.invalid:1/x", `xxxxx`}, // password redacted in the error
	} {
		_, err := Get(context.Background(), nil, tc.url, "", &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Get(%q): err = %v, want it to contain %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Get(%q): error leaks the password: %v", tc.url, err)
		}
	}
}

func TestGetFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "feed.json")
	if err := os.WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range []string{"file://" + filepath.ToSlash(p), p, "file://localhost" + filepath.ToSlash(p)} {
		var buf bytes.Buffer
		if _, err := Get(ctx, nil, u, "", &buf); err != nil || buf.String() != "one" {
			t.Fatalf("Get(%s) = %q, %v", u, buf.String(), err)
		}
	}

	var buf bytes.Buffer
	fp, err := Get(ctx, nil, "file://"+p, "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	// Unchanged size and mtime: ErrUnchanged without reading.
	if _, err := Get(ctx, nil, "file://"+p, fp, &buf); !errors.Is(err, ErrUnchanged) || buf.Len() != 0 {
		t.Fatalf("unchanged: err = %v, wrote %d", err, buf.Len())
	}

	// Touched but identical: hashed, still unchanged, nothing written.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := Get(ctx, nil, "file://"+p, fp, &buf); !errors.Is(err, ErrUnchanged) || buf.Len() != 0 {
		t.Fatalf("touched: err = %v, wrote %d", err, buf.Len())
	}

	// Changed content.
	if err := os.WriteFile(p, []byte("two!"), 0o644); err != nil {
		t.Fatal(err)
	}
	fp2, err := Get(ctx, nil, "file://"+p, fp, &buf)
	if err != nil || buf.String() != "two!" || fp2 == fp {
		t.Fatalf("changed: %q, %v, fp %s -> %s", buf.String(), err, fp, fp2)
	}

	// A foreign fingerprint is "none".
	buf.Reset()
	if _, err := Get(ctx, nil, "file://"+p, "not json", &buf); err != nil || buf.String() != "two!" {
		t.Fatalf("foreign prev: %q, %v", buf.String(), err)
	}

	if _, err := Get(ctx, nil, "file://"+dir, "", &buf); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: err = %v", err)
	}
	_, err = Get(ctx, nil, "file://"+filepath.Join(dir, "nope"), "", &buf)
	if !IsNotExist(err) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestFilePath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"file:///a/b", "/a/b", true},
		{"/a/b", "/a/b", true},
		{"file:///a%20b/c", "/a b/c", true},
		{"https://x/a", "", false},
		{"a/b", "", false},
	} {
		got, ok := FilePath(tc.in)
		if got != filepath.FromSlash(tc.want) || ok != tc.ok {
			t.Errorf("FilePath(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestListHTTP(t *testing.T) {
	page := nginxIndex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/secdb/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, page)
	}))
	defer srv.Close()
	ctx := context.Background()

	l, err := List(ctx, srv.Client(), srv.URL+"/secdb") // no trailing slash: still the directory
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"edge", true}, {"last-update", false}, {"license.txt", false}, {"v3.10", true}, {"v3.18", true}}
	if fmt.Sprint(l.Entries) != fmt.Sprint(want) {
		t.Errorf("entries = %v, want %v", l.Entries, want)
	}
	d := l.Digest
	page = strings.Replace(page, "04-Jan-2025 06:01                  11", "05-Jan-2025 06:01                  11", 1)
	if l, err = List(ctx, srv.Client(), srv.URL+"/secdb/"); err != nil || l.Digest == d {
		t.Errorf("listing changed, digest did not (err %v)", err)
	}

	if _, err := List(ctx, srv.Client(), srv.URL+"/other/"); !IsNotExist(err) {
		t.Errorf("404 listing: err = %v", err)
	}
}

func TestParseIndex(t *testing.T) {
	base, _ := url.Parse("https://mirror.example/pub/secdb/")
	page := `<A HREF="v3.19/">x</A> <a href='edge/'>e</a> <a href=v3.20/>u</a>
<a href="?C=N;O=D">sort</a> <a href="#top">top</a> <a href="/">root</a> <a href="../">up</a>
<a href="https://other.example/pub/secdb/v3.1/">elsewhere</a>
<a href="/pub/secdb/v3.21/">absolute path</a> <a href="https://mirror.example/pub/secdb/v3.22/">absolute URL</a>
<a href="v3.18/main.json">deeper</a> <a href="a%20b.json">escaped</a> <a href="x&amp;y">entity</a>
<link xhref="nope/"> <a href="v3.19/">dup</a> <a href`
	var names []string
	for _, e := range parseIndex(base, []byte(page)) {
		n := e.Name
		if e.Dir {
			n += "/"
		}
		names = append(names, n)
	}
	want := "[a b.json edge/ v3.19/ v3.20/ v3.21/ v3.22/ x&y]"
	if fmt.Sprint(names) != want {
		t.Errorf("names = %v, want %s", names, want)
	}
}

func TestListFile(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"v3.18", "edge"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "last-update"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "v3.18"), filepath.Join(dir, "latest")); err != nil {
		t.Fatal(err)
	}
	l, err := List(context.Background(), nil, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"edge", true}, {"last-update", false}, {"latest", true}, {"v3.18", true}}
	if fmt.Sprint(l.Entries) != fmt.Sprint(want) {
		t.Errorf("entries = %v, want %v", l.Entries, want)
	}
	d := l.Digest
	if err := os.WriteFile(filepath.Join(dir, "last-update"), []byte("xy"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, _ = List(context.Background(), nil, dir); l.Digest == d {
		t.Error("digest unchanged after a file changed size")
	}
	if _, err := List(context.Background(), nil, "file://"+filepath.Join(dir, "nope")); !IsNotExist(err) {
		t.Errorf("missing dir: err = %v", err)
	}
}

func TestDigest(t *testing.T) {
	if Digest("ab", "c") == Digest("a", "bc") {
		t.Error("Digest is ambiguous")
	}
}
