package npm

import (
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

// TestValidate checks what must hold of every scanner on this one's real
// samples (package scannertest).
func TestValidate(t *testing.T) {
	var cases []scannertest.Case
	for _, p := range []string{"app/node_modules/lodash/package.json", "app/node_modules/@babel/core/package.json"} {
		cases = append(cases, scannertest.Case{Path: p, Data: []byte(tree[p])})
	}
	scannertest.Validate(t, &Scanner{}, scannertest.Options{MaxSize: MaxSize}, cases...)
}

// TestRegistered checks that importing the package registers the scanner.
func TestRegistered(t *testing.T) { scannertest.Registered(t, &Scanner{}) }
