package dotnet

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
)

func TestWants(t *testing.T) {
	scannertest.Wants(t, &Scanner{}, map[string]bool{
		"app/ExampleApp1.deps.json": true,
		"usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json": true,
		"app/.deps.json":                     false,
		"app/ExampleApp1.runtimeconfig.json": false,
		"app/ExampleApp1.deps.json.bak":      false,
	})
}

// TestTrivyData scans trivy's ExampleApp1.deps.json: the one NuGet package
// trivy's parser test expects, the project itself left out.
func TestTrivyData(t *testing.T) {
	b, err := os.ReadFile("testdata/ExampleApp1.deps.json")
	if err != nil {
		t.Fatal(err)
	}
	const p = "app/ExampleApp1.deps.json"
	res := scannertest.MustScan(t, &Scanner{}, p, b)
	if len(res.Warnings) != 0 || len(res.Packages) != 1 {
		t.Fatalf("%+v", res)
	}
	got := res.Packages[0]
	if got.Name != "Newtonsoft.Json" || got.Version != "13.0.1" || got.Purl != "pkg:nuget/Newtonsoft.Json@13.0.1" ||
		got.Ecosystem != Ecosystem || got.Path != p || got.PackageDB != p || got.Kind != "binary" {
		t.Errorf("%+v", got)
	}
}

func TestLibraries(t *testing.T) {
	in := `{"libraries": {
		"Microsoft.VisualStudio.TestPlatform.Common/17.2.0-release-20220408-11": {"type": "project"},
		"Newtonsoft.Json/9.0.1": {"type": "package"},
		"System.Text.Json/8.0.0-rc.1.23419.4": {"type": "Package"},
		"runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {"type": "runtimepack"},
		"Ref/1.0.0": {"type": "reference"},
		"NoVersion": {"type": "package"},
		"Bad Name/1.0": {"type": "package"},
		"BadVersion/1.x": {"type": "package"}
	}}`
	res := scannertest.MustScan(t, &Scanner{}, "a.deps.json", []byte(in))
	var got []string
	for _, p := range res.Packages {
		got = append(got, p.Purl)
	}
	want := "pkg:nuget/Newtonsoft.Json@9.0.1 pkg:nuget/System.Text.Json@8.0.0-rc.1.23419.4"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v", got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "3 package libraries") {
		t.Errorf("warnings %v", res.Warnings)
	}
}

func TestBad(t *testing.T) {
	for _, in := range []string{"", "{", "[]", "null", `{"libraries": []}`, `{"libraries": {"a/1": 3}}`, `{"runtimeTarget": {}}`} {
		res := scannertest.MustScan(t, &Scanner{}, "x/a.deps.json", []byte(in))
		if len(res.Packages) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "x/a.deps.json") {
			t.Errorf("%q: %+v", in, res)
		}
	}
	res, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: "a.deps.json", Size: MaxSize + 1, R: strings.NewReader("{}")})
	if err != nil || len(res.Warnings) != 1 {
		t.Fatalf("%v %v", res, err)
	}
}
