package dpkg

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
		scannertest.Case{Path: "var/lib/dpkg/status", Data: scannertest.ReadFile(t, "testdata/debian-11-nginx-status")},
		scannertest.Case{Path: "var/lib/dpkg/status", Data: scannertest.ReadFile(t, "testdata/ubuntu-20.04-status")})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }

// TestValidateShared runs the same checks on the real status files of the
// shared test data (claircore's and trivy's; not trivy-dpkg_apt-status, which
// has Go values after its paragraph: TestSharedGarbage).
func TestValidateShared(t *testing.T) {
	d := sharedtest.Path(t, "pkgdb/dpkg")
	var cases []scannertest.Case
	for _, f := range []string{"claircore-debian-only.status", "claircore-postgresql.status", "claircore-texlive.status", "claircore-vcpkg.status", "trivy-ubuntu-status"} {
		cases = append(cases, scannertest.Case{Path: StatusPath, Data: scannertest.ReadFile(t, filepath.Join(d, f))})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize}, cases...)
}
