package server

import (
	"path/filepath"
	"testing"
)

// TestClairWire checks the headers Clair v4 sends and its clients read,
// end to end: Link and Location on POST index_report, Clair's media type,
// 201 on a repeated POST, and Cache-Control on reports (cache_age,
// defaulting to the period as Clair's does).
func TestClairWire(t *testing.T) {
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	api, _ := startServer(t, sqliteConfig(t, ""))
	for i := 0; i < 2; i++ {
		code, hdr, body := do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest)
		if code != 201 || len(hdr.Values("Link")) != 2 || hdr.Get("Location") != "/indexer/api/v1/index_report/"+bs.manifest.Hash ||
			hdr.Get("Content-Type") != "application/vnd.clair.indexreport.v1+json" {
			t.Errorf("POST %d: %d %v %.200s", i, code, hdr, body)
		}
	}
	code, hdr, _ := do(t, "GET", api+"/matcher/api/v1/vulnerability_report/"+bs.manifest.Hash, nil)
	if code != 200 || hdr.Get("Cache-Control") != "max-age=3600" {
		t.Errorf("vulnerability report: %d Cache-Control %q, want max-age=3600 (the 1h period)", code, hdr.Get("Cache-Control"))
	}
}
