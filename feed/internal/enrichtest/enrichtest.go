// Package enrichtest holds what the enrichment feeds' tests share: a real
// SQLite store, an update through the real updater, an HTTP server that
// honours conditional requests and counts them, and the records a store
// keeps.
package enrichtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/updater"
	"github.com/openclair/clair/vuln"
)

// Store opens an empty SQLite store for the test.
func Store(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Update runs f against s from url and returns the result.
func Update(t testing.TB, s *sqlite.Store, f feed.Feed, url string) updater.Result {
	t.Helper()
	u := &updater.Updater{Store: s, URLs: map[string]string{f.Name(): url}, TempDir: t.TempDir()}
	res, _ := u.Run(t.Context(), []feed.Feed{f})
	return res[0]
}

// Records returns what s keeps for these CVEs, keyed "feed CVE".
func Records(t testing.TB, s *sqlite.Store, cves ...string) map[string]*vuln.Enrichment {
	t.Helper()
	got, err := s.Enrichments(t.Context(), cves)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*vuln.Enrichment{}
	for _, e := range got {
		m[e.Feed+" "+e.CVE] = e
	}
	return m
}

// Server serves files (path → content) with an ETag of their content, so
// that a conditional request for an unchanged file is answered 304, and
// counts the requests.
type Server struct {
	URL   string
	mu    sync.Mutex
	files map[string][]byte
	n     int
	paths []string
}

// Serve starts a server for files. The map may be changed between
// requests (not during one).
func Serve(t testing.TB, files map[string][]byte) *Server {
	s := &Server{files: files}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.n++
		s.paths = append(s.paths, r.URL.Path)
		b, ok := s.files[strings.TrimPrefix(r.URL.Path, "/")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(b)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/"
	return s
}

// Requests returns the number of requests so far and resets it.
func (s *Server) Requests() (n int, paths []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, paths = s.n, s.paths
	s.n, s.paths = 0, nil
	return n, paths
}
