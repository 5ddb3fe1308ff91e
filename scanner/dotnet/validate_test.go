package dotnet

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize},
		scannertest.Case{Path: "app/ExampleApp1.deps.json", Data: scannertest.ReadFile(t, "testdata/ExampleApp1.deps.json")})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
