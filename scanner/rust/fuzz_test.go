package rust

import (
	"bytes"
	"os"
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

func FuzzParseSection(f *testing.F) {
	b, err := os.ReadFile("testdata/elf/dep-v0.z")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(deflate(f, []byte(`{"packages":[{"name":"a","version":"1.0.0","source":"crates.io"},{"name":"r","version":"0.1.0","root":true}]}`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		crates, _, err := ParseSection(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, c := range crates {
			if !nameRE.MatchString(c.Name) || c.Version == "" {
				t.Fatalf("bad crate %q %q", c.Name, c.Version)
			}
		}
	})
}

func FuzzScan(f *testing.F) {
	b, err := os.ReadFile("testdata/trivy-ci-test.elf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := scannertest.Consistent(t, &Scanner{}, "usr/bin/x", b)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Packages {
			if !nameRE.MatchString(p.Name) {
				t.Fatalf("bad crate %q", p.Name)
			}
		}
	})
}
