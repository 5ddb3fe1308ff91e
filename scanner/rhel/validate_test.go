package rhel

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: maxManifest, NoPackages: true},
		scannertest.Case{Path: "root/buildinfo/content_manifests/ubi9-container-9.4-1123.json", Data: []byte(ubi9Manifest)})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
