package server

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassicSeedRoutes drives the classic routes the seed documents use,
// under both prefixes: a namespace, a vulnerability by namespace and name,
// a layer's vulnerabilities, the database's feeds, and an update run on
// demand (behind auth, like every API route).
func TestClassicSeedRoutes(t *testing.T) {
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	api, _ := startServer(t, sqliteConfig(t, ""))
	waitFeed(t, api, "alpine")
	base := bs.manifest.Layers[0]
	if code, _, body := do(t, "POST", api+"/v1/layers", map[string]any{"Layer": map[string]any{
		"Name": "base", "Path": base.URI, "Headers": map[string]string{"Authorization": token}}}); code != 201 {
		t.Fatalf("POST: %d %s", code, body)
	}
	for _, prefix := range []string{"/v1", "/api/v1"} {
		code, _, body := do(t, "GET", api+prefix+"/namespaces/alpine:v3.18", nil)
		if code != 200 || string(body) != `{"Namespace":{"Name":"alpine:v3.18","VersionFormat":"apk"}}`+"\n" {
			t.Errorf("%s namespace: %d %s", prefix, code, body)
		}
		code, _, body = do(t, "GET", api+prefix+"/vulnerabilities/alpine:v3.18/CVE-2024-9143", nil)
		if code != 200 || !strings.Contains(string(body), `"Version":"3.1.7-r1"`) {
			t.Errorf("%s vulnerability: %d %s", prefix, code, body)
		}
		code, _, body = do(t, "GET", api+prefix+"/layers/base/vulnerabilities", nil)
		if code != 200 || !strings.Contains(string(body), "CVE-2024-9143") {
			t.Errorf("%s layer vulnerabilities: %d %.300s", prefix, code, body)
		}
		code, _, body = do(t, "GET", api+prefix+"/database", nil)
		var db struct {
			Database struct {
				Feeds []struct {
					Name       string
					Advisories int
					Ready      bool
				}
			}
		}
		if code != 200 || json.Unmarshal(body, &db) != nil || len(db.Database.Feeds) != 1 ||
			db.Database.Feeds[0].Name != "alpine" || !db.Database.Feeds[0].Ready || db.Database.Feeds[0].Advisories < 100 {
			t.Errorf("%s database: %d %s", prefix, code, body)
		}
		code, _, body = do(t, "POST", api+prefix+"/database/update", nil)
		if code != 200 || !strings.Contains(string(body), `{"Updates":[{"Feed":"alpine","Changed":false`) {
			t.Errorf("%s database/update: %d %s", prefix, code, body)
		}
		// Unknown routes and the 404 of a missing thing: classic shape,
		// a plain message.
		for _, p := range []string{"/nope", "/namespaces/debian:99", "/layers/nope/vulnerabilities"} {
			code, _, body = do(t, "GET", api+prefix+p, nil)
			var e v1Resp
			if code != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.Error == nil || strings.Contains(e.Error.Message, "store:") {
				t.Errorf("%s%s: %d %s", prefix, p, code, body)
			}
		}
	}
}

// TestDatabaseUpdateAuth: running the updaters is behind the PSK like the
// rest of the API.
func TestDatabaseUpdateAuth(t *testing.T) {
	api, _ := startServer(t, sqliteConfig(t, "auth:\n  psk:\n    key: c2VjcmV0LWtleS1mb3ItdGVzdHM=\n"))
	code, hdr, body := do(t, "POST", api+"/v1/database/update", nil)
	var e v1Resp
	if code != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.Error == nil || e.Error.Message == "" || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("unsigned POST database/update: %d %s, want 401 in the classic shape", code, body)
	}
	// v4 routes keep v4's shape.
	if code, _, body := do(t, "GET", api+"/indexer/api/v1/index_state", nil); code != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"unauthorized"`) {
		t.Errorf("unsigned v4 request: %d %s", code, body)
	}
}
