package rpm

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	scannertest.Validate(t, &Scanner{}, scannertest.Options{
		MaxSize: MaxSize,
		// Scan spools the database to disk before it can tell its size
		// (the indexer charges that to the layer's budget): trying the
		// bound would write a GiB. TestBudget and the limit tests cover it.
		SkipBound: "rpm spools up to MaxSize (1 GiB) to disk before it can tell",
	},
		scannertest.Case{Path: "var/lib/rpm/Packages", Data: scannertest.ReadFile(t, "testdata/var/lib/rpm/Packages")},
		scannertest.Case{Path: "usr/lib/sysimage/rpm/Packages.db", Data: scannertest.ReadFile(t, "testdata/sle15-bci/Packages.db")})
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
