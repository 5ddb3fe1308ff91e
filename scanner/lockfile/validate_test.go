package lockfile

import (
	"testing"

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
