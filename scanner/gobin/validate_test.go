package gobin

import (
	"path/filepath"

	"testing"

	"github.com/openclair/clair/internal/sharedtest"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	bin := filepath.Join(sharedtest.Path(t, "pkgdb/golang-binaries"), "trivy-test.elf")
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize},
		scannertest.Case{Path: "usr/local/bin/trivy", Data: scannertest.ReadFile(t, bin)})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
