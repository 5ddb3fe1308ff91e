package ruby

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	var cases []scannertest.Case
	for _, g := range []string{"async-1.25.0.gemspec", "rack-2.2.3.gemspec"} {
		cases = append(cases, scannertest.Case{
			Path: "usr/local/bundle/specifications/" + g,
			Data: scannertest.ReadFile(t, "testdata/specifications/"+g),
		})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize}, cases...)
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
