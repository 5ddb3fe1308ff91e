package lockfile

import (
	"path/filepath"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize},
		scannertest.Case{Path: "app/package-lock.json", Data: scannertest.ReadFile(t, "testdata/formats/npm-v2-workspaces/package-lock.json")},
		scannertest.Case{Path: "app/yarn.lock", Data: scannertest.ReadFile(t, "testdata/formats/yarn-v1/yarn.lock")},
		scannertest.Case{Path: "app/pnpm-lock.yaml", Data: scannertest.ReadFile(t, "testdata/formats/pnpm-v6/pnpm-lock.yaml")})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }

// TestValidateShared runs the same checks on the real lock files of the
// shared test data, one of each format there.
func TestValidateShared(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/lockfiles")
	var cases []scannertest.Case
	for p, f := range map[string]string{
		"src/go.mod":             "go/trivy-go.mod",
		"app/package-lock.json":  "npm/nodejs-security-wg-package-lock.json",
		"app/pnpm-lock.yaml":     "npm/osv.dev-frontend3-pnpm-lock.yaml",
		"app/uv.lock":            "python/langflow-base-uv.lock",
		"app/poetry.lock":        "python/osv.dev-poetry.lock",
		"app/requirements.txt":   "python/osv.dev-docker-poetry-requirements.txt",
		"app/Pipfile.lock":       "python/trivy-ci-test-Pipfile.lock",
		"src/ripgrep/Cargo.lock": "rust/ripgrep-Cargo.lock",
	} {
		cases = append(cases, scannertest.Case{Path: p, Data: scannertest.ReadFile(t, filepath.Join(d, filepath.FromSlash(f)))})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize}, cases...)
}
