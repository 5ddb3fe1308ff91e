package dotnet

import (
	"os"
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/version/nuget"
)

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/ExampleApp1.deps.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"libraries":{"A/1.0.0-Beta":{"type":"package"},"B/2":{"type":"project"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := scannertest.Consistent(t, &Scanner{}, "app/a.deps.json", b)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Packages {
			if !validName(p.Name) {
				t.Fatalf("bad name %q", p.Name)
			}
			if _, err := nuget.Parse(p.Version); err != nil {
				t.Fatal(err)
			}
		}
	})
}
