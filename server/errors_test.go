package server

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/internal/imagetest"
	"github.com/openclair/clair/vuln"
)

// TestBadLayerContent: layers naming files outside the image root (a
// "../" path, an absolute path, an escaping hardlink) are the caller's
// content: 422 with a message naming the layer and the entry, and the
// manifest's index report says why.
func TestBadLayerContent(t *testing.T) {
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	api, _ := startServer(t, sqliteConfig(t, ""))
	for i, ents := range [][]imagetest.Entry{
		{{Path: "../../etc/passwd", Content: []byte("root:x:0:0::/root:/bin/sh\n")}},
		{{Path: "/etc/shadow", Content: []byte("x")}},
	} {
		blob, err := imagetest.LayerTar(ents)
		if err != nil {
			t.Fatal(err)
		}
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(blob))
		uri := bs.add(d, blob)
		m := &vuln.Manifest{Hash: fmt.Sprintf("sha256:%064x", i+1), Layers: []*vuln.ManifestLayer{
			{Hash: d, URI: uri, Headers: map[string][]string{"Authorization": {token}}}}}
		code, hdr, body := do(t, "POST", api+"/indexer/api/v1/index_report", m)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "layer "+d+": entry ") || hdr.Get("X-Request-Id") == "" {
			t.Errorf("%s: %d %s, want 422 naming the layer and entry", ents[0].Path, code, body)
		}
		code, _, body = do(t, "GET", api+"/indexer/api/v1/index_report/"+m.Hash, nil)
		var r vuln.IndexReport
		if code != 200 || json.Unmarshal(body, &r) != nil || r.State != "IndexError" || !strings.Contains(r.Err, "entry ") {
			t.Errorf("%s: report %d %s, want state IndexError saying why", ents[0].Path, code, body)
		}
		if code, _, body = do(t, "GET", api+"/matcher/api/v1/vulnerability_report/"+m.Hash, nil); code != http.StatusUnprocessableEntity {
			t.Errorf("%s: vulnerability report %d %s, want 422", ents[0].Path, code, body)
		}
	}
	// A missing report: "not found", not the store's words.
	code, _, body := do(t, "GET", api+"/indexer/api/v1/index_report/sha256:"+strings.Repeat("9", 64), nil)
	if code != 404 || strings.Contains(string(body), "store:") || !strings.Contains(string(body), "not found") {
		t.Errorf("missing report: %d %s", code, body)
	}
}

// TestReadyzFeeds: a server whose only feed fails is not ready, and says
// which feed it lacks.
func TestReadyzFeeds(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	cfg := fmt.Sprintf(`http_listen_addr: 127.0.0.1:0
introspection_addr: 127.0.0.1:0
log_level: error
indexer:
  connstring: sqlite:%s
matcher:
  period: 1h
updaters:
  sets: [alpine]
  config:
    alpine:
      url: file://%s
`, db, filepath.Join(t.TempDir(), "missing"))
	_, intro := startServer(t, cfg)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, body := do(t, "GET", intro+"/readyz", nil)
		if code == http.StatusServiceUnavailable && strings.Contains(string(body), "feeds without data yet: alpine") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the feed failing: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
