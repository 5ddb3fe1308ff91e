package gobin

import (
	"path/filepath"
	"strings"

	"testing"

	"github.com/openclair/clair/internal/sharedtest"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	// Real Go executables: ELF and Mach-O, a module version set by
	// ldflags, a GOEXPERIMENT build.
	d := sharedtest.Path(t, "pkgdb/golang-binaries")
	var cases []scannertest.Case
	for _, f := range []string{"trivy-test.elf", "trivy-goexperiment.elf", "trivy-main-version-via-ldflags.elf", "trivy-semver-main-module-version.macho"} {
		cases = append(cases, scannertest.Case{Path: "usr/local/bin/" + strings.TrimSuffix(f, filepath.Ext(f)), Data: scannertest.ReadFile(t, filepath.Join(d, f))})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize}, cases...)
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
