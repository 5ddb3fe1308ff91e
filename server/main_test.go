package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/openclair/clair/vuln"
)

const root = ".."

// blobServer serves the layer blobs of a real image (the repo's
// alpine:3.18.9 archive) as a registry would, behind a bearer token.
type blobServer struct {
	*httptest.Server
	manifest *vuln.Manifest
	mu       sync.Mutex
	gets     int
	blobs    map[string][]byte
}

// add serves b under name and returns its URI.
func (bs *blobServer) add(name string, b []byte) string {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	bs.blobs[name] = b
	return bs.URL + "/v2/library/test/blobs/" + name
}

const token = "Bearer registry-token"

func newBlobServer(t *testing.T, archive string) *blobServer {
	t.Helper()
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{}
	bs := &blobServer{blobs: blobs}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/library/test/blobs/{digest}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != token {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		bs.mu.Lock()
		b, ok := blobs[r.PathValue("digest")]
		bs.mu.Unlock()
		if !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		bs.mu.Lock()
		bs.gets++
		bs.mu.Unlock()
		_, _ = w.Write(b)
	})
	bs.Server = httptest.NewServer(mux)
	t.Cleanup(bs.Close)
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	bs.manifest = &vuln.Manifest{Hash: digest.String()}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		blobs[d.String()] = b
		bs.manifest.Layers = append(bs.manifest.Layers, &vuln.ManifestLayer{
			Hash: d.String(), URI: bs.URL + "/v2/library/test/blobs/" + d.String(),
			Headers: map[string][]string{"Authorization": {token}},
		})
	}
	return bs
}

func (bs *blobServer) fetches() int {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return bs.gets
}

// startServer runs the server in-process on loopback ports with cfg.
func startServer(t *testing.T, cfg string, args ...string) (api, intro string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"-config", path}, args...), &syncWriter{w: &logs}, func(a, i string) { addrs <- [2]string{a, i} })
	}()
	select {
	case a := <-addrs:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
		return "http://" + a[0], "http://" + a[1]
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start in 30s")
	}
	return "", ""
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func sqliteConfig(t *testing.T, extra string) string {
	db := filepath.Join(t.TempDir(), "clair.db")
	feeds, _ := filepath.Abs(filepath.Join(root, "testdata/feeds/alpine"))
	return fmt.Sprintf(`http_listen_addr: 127.0.0.1:0
introspection_addr: 127.0.0.1:0
log_level: warn
indexer:
  connstring: sqlite:%s
  allow_private_networks: true
matcher:
  period: 1h
updaters:
  sets: [alpine]
  config:
    alpine:
      url: file://%s
%s`, db, feeds, extra)
}

func do(t *testing.T, method, url string, body any, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// waitFeed waits for the background updater's first run.
func waitFeed(t *testing.T, api, feed string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		code, _, body := do(t, "GET", api+"/matcher/api/v1/internal/update_operation", nil)
		if code == 200 {
			var ops map[string][]json.RawMessage
			if json.Unmarshal(body, &ops) == nil && len(ops[feed]) > 0 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("feed %s never updated", feed)
}

func TestIndexAndMatchAPI(t *testing.T) {
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	api, intro := startServer(t, sqliteConfig(t, ""))
	waitFeed(t, api, "alpine")

	code, hdr, body := do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest)
	if code != http.StatusCreated {
		t.Fatalf("POST index_report: %d %s", code, body)
	}
	var ir vuln.IndexReport
	if err := json.Unmarshal(body, &ir); err != nil {
		t.Fatal(err)
	}
	if ir.ManifestHash != bs.manifest.Hash || ir.State != vuln.IndexFinished || len(ir.Packages) != 15 {
		t.Errorf("index report: hash %s state %s, %d packages", ir.ManifestHash, ir.State, len(ir.Packages))
	}
	tag := hdr.Get("ETag")
	if tag == "" {
		t.Error("no ETag")
	}
	fetched := bs.fetches()

	// Posting again is a store look-up: no fetch, and 201 as Clair
	// answers every successful POST.
	code, _, _ = do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest)
	if code != http.StatusCreated || bs.fetches() != fetched {
		t.Errorf("second POST: %d, %d more fetches", code, bs.fetches()-fetched)
	}
	// A client holding the current state is told so.
	if code, _, _ = do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest, "If-None-Match", tag); code != http.StatusPreconditionFailed {
		t.Errorf("If-None-Match POST: %d, want 412", code)
	}
	if code, _, _ = do(t, "GET", api+"/indexer/api/v1/index_report/"+bs.manifest.Hash, nil, "If-None-Match", tag); code != http.StatusNotModified {
		t.Errorf("If-None-Match GET: %d, want 304", code)
	}
	code, _, body = do(t, "GET", api+"/indexer/api/v1/index_state", nil)
	if code != 200 || !strings.Contains(string(body), `"state"`) {
		t.Errorf("index_state: %d %s", code, body)
	}

	code, _, body = do(t, "GET", api+"/matcher/api/v1/vulnerability_report/"+bs.manifest.Hash, nil)
	if code != 200 {
		t.Fatalf("vulnerability_report: %d %s", code, body)
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal(body, &vr); err != nil {
		t.Fatal(err)
	}
	found := false
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			if vr.Packages[pid].Name == "libssl3" && vr.Vulnerabilities[vid].Name == "CVE-2024-9143" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("libssl3 CVE-2024-9143 not reported: %s", body)
	}

	// Errors in Clair's shape.
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/matcher/api/v1/vulnerability_report/sha256:" + strings.Repeat("0", 64), nil, 404},
		{"GET", "/matcher/api/v1/vulnerability_report/latest", nil, 400},
		{"POST", "/indexer/api/v1/index_report", "{not json", 400},
		{"POST", "/indexer/api/v1/index_report", map[string]any{"hash": "sha256:x"}, 400},
		{"PUT", "/indexer/api/v1/index_report", nil, 405},
		{"POST", "/indexer/api/v1/index_report", strings.Repeat(" ", 5<<20), 413},
		{"GET", "/nowhere", nil, 404},
	} {
		code, _, body := do(t, tc.method, api+tc.path, tc.body)
		var e struct{ Code, Message string }
		if code != tc.want || json.Unmarshal(body, &e) != nil || e.Message == "" {
			t.Errorf("%s %s: %d %s, want %d with a JSON error", tc.method, tc.path, code, body, tc.want)
		}
	}
	// A layer that cannot be fetched: an error now, retried next time.
	bad := *bs.manifest
	bad.Hash = "sha256:" + strings.Repeat("1", 64)
	bad.Layers = []*vuln.ManifestLayer{{Hash: "sha256:" + strings.Repeat("2", 64), URI: bs.URL + "/v2/library/test/blobs/sha256:" + strings.Repeat("2", 64),
		Headers: map[string][]string{"Authorization": {token}}}}
	for i := 0; i < 2; i++ {
		code, _, body = do(t, "POST", api+"/indexer/api/v1/index_report", &bad)
		if code != http.StatusBadGateway || !strings.Contains(string(body), "404") {
			t.Errorf("unfetchable layer, try %d: %d %s", i, code, body)
		}
	}

	code, _, body = do(t, "DELETE", api+"/indexer/api/v1/index_report", []string{bs.manifest.Hash, bad.Hash})
	if code != 200 || strings.TrimSpace(string(body)) != `["`+bs.manifest.Hash+`"]` {
		t.Errorf("DELETE list: %d %s", code, body)
	}
	if code, _, _ = do(t, "GET", api+"/indexer/api/v1/index_report/"+bs.manifest.Hash, nil); code != 404 {
		t.Errorf("after delete: %d", code)
	}

	// Introspection.
	code, _, body = do(t, "GET", intro+"/metrics", nil)
	if code != 200 || !strings.Contains(string(body), `clair_http_requests_total{code="201",method="POST",route="/indexer/api/v1/index_report"} 2`) ||
		!strings.Contains(string(body), "clair_layers_fetched_total") || !strings.Contains(string(body), `clair_updater_runs_total{feed="alpine",result="changed"} 1`) {
		t.Errorf("metrics: %d\n%s", code, grep(string(body), "clair_"))
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, _ := do(t, "GET", intro+p, nil); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, _, _ := do(t, "GET", api+"/health", nil); code != 200 {
		t.Errorf("/health: %d", code)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
