package server

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

// TestIndexLimitsFromConfig: indexer.limits reaches the indexer. The real
// Alpine 3.18.9 image has 15 packages; a cap of 5 packages a layer indexes 5
// and says why in the report's warnings.
func TestIndexLimitsFromConfig(t *testing.T) {
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	cfg := sqliteConfig(t, "")
	cfg = strings.Replace(cfg, "  allow_private_networks: true\n", "  allow_private_networks: true\n  limits:\n    max_layer_packages: 5\n", 1)
	api, _ := startServer(t, cfg)
	code, _, body := do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest)
	if code != http.StatusCreated {
		t.Fatalf("POST index_report: %d %s", code, body)
	}
	var ir vuln.IndexReport
	if err := json.Unmarshal(body, &ir); err != nil {
		t.Fatal(err)
	}
	if len(ir.Packages) != 5 {
		t.Errorf("%d packages, want the 5 of the cap", len(ir.Packages))
	}
	if !strings.Contains(strings.Join(ir.Warnings, "\n"), "MaxLayerPackages") {
		t.Errorf("warnings %q do not say the cap was hit", ir.Warnings)
	}
}
