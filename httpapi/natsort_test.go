package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"testing"

	"github.com/openclair/clair/feed"
	_ "github.com/openclair/clair/feed/alpine"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/updater"
)

func TestNaturalLess(t *testing.T) {
	in := []string{"alpine:v3.19", "alpine:edge", "alpine:v3.2", "debian:10", "debian:9", "alpine:v3.10", "ubuntu:22.04", "ubuntu:9.10", "x:007", "x:7", "x:8"}
	sort.Slice(in, func(i, j int) bool { return naturalLess(in[i], in[j]) })
	want := []string{"alpine:edge", "alpine:v3.2", "alpine:v3.10", "alpine:v3.19", "debian:9", "debian:10", "ubuntu:9.10", "ubuntu:22.04", "x:7", "x:007", "x:8"}
	for i := range want {
		if in[i] != want[i] {
			t.Fatalf("got %v\nwant %v", in, want)
		}
	}
}

// TestNamespacesSortedAsVersions: /v1/namespaces over the real Alpine
// secdb (v3.2 to v3.21) lists v3.2 before v3.19.
func TestNamespacesSortedAsVersions(t *testing.T) {
	secdb := sharedtest.Path(t, "feeds/alpine/secdb")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, _ := feed.Lookup("alpine")
	u := &updater.Updater{Store: st, URLs: map[string]string{"alpine": "file://" + secdb + "/"}}
	if _, err := u.Run(ctx, []feed.Feed{f}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	(&Classic{Namespaces: st}).getNamespaces(rec, httptest.NewRequest(http.MethodGet, "/v1/namespaces", nil))
	var out struct{ Namespaces []struct{ Name string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, n := range out.Namespaces {
		pos[n.Name] = i
	}
	if _, ok := pos["alpine:v3.19"]; !ok || pos["alpine:v3.2"] > pos["alpine:v3.19"] || pos["alpine:v3.9"] > pos["alpine:v3.10"] {
		t.Errorf("order: %v", out.Namespaces)
	}
}
