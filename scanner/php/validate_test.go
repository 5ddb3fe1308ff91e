package php

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize},
		scannertest.Case{Path: "app/vendor/composer/installed.json", Data: scannertest.ReadFile(t, "testdata/composer1-installed.json")},
		scannertest.Case{Path: "app/vendor/composer/installed.json", Data: scannertest.ReadFile(t, "testdata/composer2-installed.json")})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
