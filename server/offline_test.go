package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/updater"
	"github.com/openclair/clair/vuln"
)

// TestDisabledUpdatersServeImportedBundle: an air-gapped server
// (disable_updaters: true) serves the advisories a bundle brought in
// (clairctl export-updaters on a connected machine, import-updaters here).
func TestDisabledUpdatersServeImportedBundle(t *testing.T) {
	ctx := context.Background()
	alpine, ok := feed.Lookup("alpine")
	if !ok {
		t.Fatal("no alpine feed registered")
	}
	feeds, _ := filepath.Abs(filepath.Join(root, "testdata/feeds/alpine"))
	bundle := filepath.Join(t.TempDir(), "updates.tar.zst")
	out, err := os.Create(bundle)
	if err != nil {
		t.Fatal(err)
	}
	exp := &updater.Updater{URLs: map[string]string{"alpine": "file://" + feeds}, TempDir: t.TempDir()}
	if _, err := exp.ExportBundle(ctx, out, []feed.Feed{alpine}); err != nil {
		t.Fatal(err)
	}
	out.Close()

	db := filepath.Join(t.TempDir(), "clair.db")
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&updater.Updater{Store: st, TempDir: t.TempDir()}).ImportBundleURL(ctx, bundle)
	st.Close()
	if err != nil || len(res) != 1 || !res[0].Changed {
		t.Fatalf("import: %+v %v", res, err)
	}

	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	api, _ := startServer(t, fmt.Sprintf(`http_listen_addr: 127.0.0.1:0
introspection_addr: 127.0.0.1:0
log_level: warn
indexer:
  connstring: sqlite:%s
  allow_private_networks: true
matcher:
  disable_updaters: true
updaters:
  sets: [alpine]
  config:
    alpine:
      url: file:///nonexistent/feeds/are/never/fetched
`, db))
	if code, _, body := do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest); code != http.StatusCreated {
		t.Fatalf("POST index_report: %d %s", code, body)
	}
	code, _, body := do(t, "GET", api+"/matcher/api/v1/vulnerability_report/"+bs.manifest.Hash, nil)
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
			if vr.Packages[pid].Name == "libssl3" && vr.Vulnerabilities[vid].Name == "CVE-2024-9143" && vr.Vulnerabilities[vid].Updater == "alpine" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("libssl3 CVE-2024-9143 from the imported bundle not reported: %s", body)
	}
}
