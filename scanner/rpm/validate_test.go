package rpm

import (
	"os"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	// Every real database of the package's tests: Berkeley DB, NDB, and
	// SQLite where the shared test data is present.
	var cases []scannertest.Case
	for _, db := range databases {
		file := db.file
		if db.shared {
			if _, err := os.Stat(sharedtest.Dir()); err != nil {
				continue
			}
			file = shared(t, db.file)
		}
		cases = append(cases, scannertest.Case{Path: db.path, Data: scannertest.ReadFile(t, file)})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize}, cases...)
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
