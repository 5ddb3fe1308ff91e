package server

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

// TestUIAndFormats: the server serves the web page and the report formats
// for a manifest indexed through its API.
func TestUIAndFormats(t *testing.T) {
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	api, _ := startServer(t, sqliteConfig(t, ""))
	waitFeed(t, api, "alpine")
	if code, _, body := do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest); code != http.StatusCreated {
		t.Fatalf("POST index_report: %d %s", code, body)
	}
	code, _, body := do(t, "GET", api+"/matcher/api/v1/vulnerability_report/"+bs.manifest.Hash, nil)
	var vr vuln.VulnerabilityReport
	if code != 200 || json.Unmarshal(body, &vr) != nil {
		t.Fatalf("vulnerability_report: %d", code)
	}
	n := 0
	for _, vids := range vr.PackageVulnerabilities {
		n += len(vids)
	}

	code, hdr, body := do(t, "GET", api+"/matcher/api/v1/vulnerability_report/"+bs.manifest.Hash+"?format=sarif", nil)
	var log struct {
		Runs []struct{ Results []json.RawMessage }
	}
	if code != 200 || hdr.Get("Content-Type") != "application/sarif+json" || json.Unmarshal(body, &log) != nil || len(log.Runs[0].Results) != n || n == 0 {
		t.Errorf("sarif: %d %s, %d results for %d findings", code, hdr.Get("Content-Type"), len(log.Runs), n)
	}

	code, hdr, body = do(t, "GET", api+"/ui/", nil)
	page := string(body)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
		!strings.Contains(page, `<a href="manifest/`+bs.manifest.Hash+`">`) || !strings.Contains(page, `<tr data-feed="alpine"><td>alpine</td>`) {
		t.Errorf("/ui/: %d %s\n%s", code, hdr.Get("Content-Type"), page)
	}
	code, _, body = do(t, "GET", api+"/ui/manifest/"+bs.manifest.Hash, nil)
	if code != 200 || strings.Count(string(body), "<tr data-sev=") != n {
		t.Errorf("/ui/manifest: %d, %d rows for %d findings", code, strings.Count(string(body), "<tr data-sev="), n)
	}
}
