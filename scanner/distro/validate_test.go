package distro

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	// The files of real root filesystems, at the paths they have there.
	var cases []scannertest.Case
	for _, rel := range []string{
		"debian-11-nginx/usr/lib/os-release",
		"debian-11-nginx/etc/debian_version",
		"ubuntu-14.04/etc/lsb-release",
		"rhel-9/etc/os-release",
		"alpine-3.14-minirootfs/etc/alpine-release",
	} {
		root, p, _ := strings.Cut(rel, "/")
		cases = append(cases, scannertest.Case{Path: p, Data: scannertest.ReadFile(t, filepath.Join("testdata", "rootfs", root, p))})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxRead}, cases...)
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
