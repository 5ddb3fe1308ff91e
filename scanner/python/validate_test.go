package python

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	var cases []scannertest.Case
	for _, d := range []string{"pip-24.0.dist-info", "wheel-0.43.0.dist-info", "setuptools-69.5.1.dist-info"} {
		cases = append(cases, scannertest.Case{
			Path: "usr/lib/python3.12/site-packages/" + d + "/METADATA",
			Data: scannertest.ReadFile(t, "testdata/site-packages/"+d+"/METADATA"),
		})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxHeader}, cases...)
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
