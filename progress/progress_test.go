package progress

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTransport downloads the repository's Debian tracker excerpt through
// a progress transport: the final line has the bytes, the total and a rate.
func TestTransport(t *testing.T) {
	feed := filepath.Join("..", "testdata", "feeds", "debian-bullseye-nginx.json")
	want, err := os.ReadFile(feed)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(feed))))
	defer srv.Close()
	var out bytes.Buffer
	p := newPrinter(&out)
	clock := time.Unix(0, 0)
	p.now = func() time.Time { clock = clock.Add(50 * time.Millisecond); return clock }
	cl := &http.Client{Transport: p.Transport(nil, func(r *http.Request) string { return "download " + r.URL.Path })}
	res, err := cl.Get(srv.URL + "/debian-bullseye-nginx.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("body changed: %v", err)
	}
	lines := strings.Split(out.String(), "\r\x1b[K")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "download /debian-bullseye-nginx.json  ") || !strings.HasSuffix(last, "/s\n") ||
		strings.Count(out.String(), "\n") != 1 {
		t.Errorf("progress output %q", out.String())
	}
	// Redrawn along the way (every 200ms of the fake clock), not per read.
	if len(lines) < 3 {
		t.Errorf("%d redraws", len(lines)-1)
	}
	if !strings.Contains(last, " / ") {
		t.Errorf("no total: %q", last)
	}
}

// TestNotTerminal: off a terminal there is no printer and nothing printed.
func TestNotTerminal(t *testing.T) {
	var out bytes.Buffer
	p := New(&out)
	if p != nil {
		t.Fatal("a printer on a buffer")
	}
	rc := p.Reader(io.NopCloser(strings.NewReader("abc")), "x", 3)
	io.ReadAll(rc)
	rc.Close()
	if out.Len() != 0 || p.Transport(nil, nil) != http.DefaultTransport {
		t.Error("printed off a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}
