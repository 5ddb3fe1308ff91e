package rust

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize},
		scannertest.Case{Path: "usr/local/bin/trivy-ci-test", Data: scannertest.ReadFile(t, "testdata/trivy-ci-test.elf")})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
