package apk

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
		scannertest.Case{Path: InstalledPath, Data: scannertest.ReadFile(t, "testdata/installed")})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }

// TestValidateShared runs the same checks on the real databases of the
// shared test data (syft's and trivy's).
func TestValidateShared(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/apk")
	var cases []scannertest.Case
	for _, f := range []string{"syft-multiple-2-installed", "trivy-alpine-installed"} {
		cases = append(cases, scannertest.Case{Path: InstalledPath, Data: scannertest.ReadFile(t, filepath.Join(d, f))})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize}, cases...)
}
