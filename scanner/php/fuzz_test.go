package php

import (
	"os"
	"strings"
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/composer1-installed.json", "testdata/composer2-installed.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"packages":[{"name":"a/b","version":"v1"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := scannertest.Consistent(t, &Scanner{}, "vendor/composer/installed.json", b)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Packages {
			if !nameRE.MatchString(p.Name) || p.Version == "" || strings.ContainsAny(p.Version, "\n\r\x00") {
				t.Fatalf("bad package %q %q", p.Name, p.Version)
			}
			if !strings.HasPrefix(p.Purl, "pkg:composer/") {
				t.Fatalf("purl %q", p.Purl)
			}
		}
	})
}
