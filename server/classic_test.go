package server

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/imagetest"
)

type v1Resp struct {
	Layer struct {
		Name, NamespaceName, ParentName string
		IndexedByVersion                int
		Features                        []struct {
			Name, NamespaceName, VersionFormat, Version, AddedBy string
			Vulnerabilities                                      []struct {
				Name, NamespaceName, Severity, FixedBy, Link string
			}
		}
	}
	Error *struct{ Message string }
}

// TestClassicAPI drives the layer API as klar and Clair v2 clients do:
// layers one at a time, each naming its parent, under /v1 and /api/v1.
func TestClassicAPI(t *testing.T) {
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	api, _ := startServer(t, sqliteConfig(t, ""))
	waitFeed(t, api, "alpine")
	base := bs.manifest.Layers[0]
	child, err := imagetest.LayerTar([]imagetest.Entry{{Path: "etc/motd", Content: []byte("hello\n")}})
	if err != nil {
		t.Fatal(err)
	}
	childURI := bs.add("child", child)
	hdr := map[string]string{"Authorization": token}

	post := func(prefix, name, path, parent string) (int, v1Resp) {
		code, _, body := do(t, "POST", api+prefix+"/layers", map[string]any{"Layer": map[string]any{
			"Name": name, "Path": path, "Headers": hdr, "ParentName": parent, "Format": "Docker"}})
		var r v1Resp
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("POST %s: %d %s", name, code, body)
		}
		return code, r
	}
	if code, r := post("/v1", "base", base.URI, ""); code != http.StatusCreated || r.Layer.NamespaceName != "alpine:v3.18" || r.Layer.IndexedByVersion == 0 {
		t.Fatalf("POST base: %d %+v", code, r)
	}
	fetched := bs.fetches()
	if code, r := post("/api/v1", "child", childURI, "base"); code != http.StatusCreated {
		t.Fatalf("POST child: %d %+v", code, r)
	}
	if d := bs.fetches() - fetched; d != 1 {
		t.Errorf("posting the child fetched %d blobs, want 1 (the parent's scan is cached)", d)
	}

	code, _, body := do(t, "GET", api+"/v1/layers/child?features&vulnerabilities", nil)
	var r v1Resp
	if code != 200 || json.Unmarshal(body, &r) != nil {
		t.Fatalf("GET child: %d %s", code, body)
	}
	if r.Layer.ParentName != "base" || r.Layer.NamespaceName != "alpine:v3.18" || len(r.Layer.Features) != 15 {
		t.Errorf("child: parent %q ns %q, %d features", r.Layer.ParentName, r.Layer.NamespaceName, len(r.Layer.Features))
	}
	found := false
	for _, f := range r.Layer.Features {
		if f.AddedBy != "base" {
			t.Errorf("%s added by %q, want base", f.Name, f.AddedBy)
		}
		for _, v := range f.Vulnerabilities {
			if f.Name == "libssl3" && v.Name == "CVE-2024-9143" && v.FixedBy == "3.1.7-r1" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("libssl3 CVE-2024-9143 fixed by 3.1.7-r1 not among the features: %s", body)
	}
	// Without the query, no features.
	if _, _, body := do(t, "GET", api+"/v1/layers/child", nil); strings.Contains(string(body), "Features") {
		t.Errorf("features without ?features: %s", body)
	}

	// Namespaces and their vulnerabilities, paged.
	code, _, body = do(t, "GET", api+"/v1/namespaces", nil)
	if code != 200 || !strings.Contains(string(body), `{"Name":"alpine:v3.18","VersionFormat":"apk"}`) {
		t.Errorf("namespaces: %d %s", code, body)
	}
	seen := map[string]bool{}
	page := ""
	for i := 0; i < 1000; i++ {
		code, _, body = do(t, "GET", api+"/v1/namespaces/alpine:v3.18/vulnerabilities?limit=100&page="+page, nil)
		var p struct {
			Vulnerabilities []struct{ Name string }
			NextPage        string
		}
		if code != 200 || json.Unmarshal(body, &p) != nil {
			t.Fatalf("page %d: %d %s", i, code, body)
		}
		for _, v := range p.Vulnerabilities {
			if seen[v.Name] {
				t.Fatalf("%s on two pages", v.Name)
			}
			seen[v.Name] = true
		}
		if p.NextPage == "" {
			break
		}
		page = p.NextPage
	}
	if !seen["CVE-2024-9143"] || len(seen) < 100 {
		t.Errorf("%d vulnerabilities listed", len(seen))
	}
	code, _, body = do(t, "GET", api+"/v1/namespaces/alpine:v3.18/vulnerabilities/CVE-2024-9143", nil)
	if code != 200 || !strings.Contains(string(body), `"Name":"openssl"`) || !strings.Contains(string(body), `"Version":"3.1.7-r1"`) {
		t.Errorf("vulnerability: %d %s", code, body)
	}

	// Errors in the classic shape.
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/v1/layers/nope", nil, 404},
		{"POST", "/v1/layers", "{", 400},
		{"POST", "/v1/layers", map[string]any{"Layer": map[string]any{"Name": "x", "Path": childURI, "ParentName": "nope"}}, 400},
		{"POST", "/v1/layers", map[string]any{"Layer": map[string]any{"Name": "x"}}, 400},
		{"POST", "/v1/layers", map[string]any{"Layer": map[string]any{"Name": "x", "Path": bs.URL + "/v2/library/test/blobs/missing", "Headers": hdr}}, 502}, // the source's failure, as v4 maps it
		{"GET", "/v1/no/such/route", nil, 404},
		{"PUT", "/v1/layers", nil, 405},
		{"GET", "/v1/namespaces/debian:99/vulnerabilities", nil, 404},
		{"GET", "/v1/namespaces/alpine:v3.18/vulnerabilities?limit=-1", nil, 400},
	} {
		code, _, body := do(t, tc.method, api+tc.path, tc.body)
		var e v1Resp
		if code != tc.want || json.Unmarshal(body, &e) != nil || e.Error == nil || e.Error.Message == "" {
			t.Errorf("%s %s: %d %s, want %d with {\"Error\":{\"Message\"}}", tc.method, tc.path, code, body, tc.want)
		}
	}
	if code, _, _ := do(t, "DELETE", api+"/v1/layers/child", nil); code != 200 {
		t.Errorf("DELETE: %d", code)
	}
	if code, _, _ := do(t, "GET", api+"/v1/layers/child", nil); code != 404 {
		t.Errorf("after DELETE: %d", code)
	}
}
