package conda

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
)

func TestScanRealRecord(t *testing.T) {
	b, err := os.ReadFile("../testdata/pip-22.2.2-py38h06a4308_0.json")
	if err != nil {
		t.Fatal(err)
	}
	p := "opt/conda/conda-meta/pip-22.2.2-py38h06a4308_0.json"
	if !(Scanner{}).Wants(p) || (Scanner{}).Wants("opt/conda/lib/x.json") {
		t.Fatal("Wants")
	}
	res, err := Scanner{}.Scan(context.Background(), scanner.File{Path: p, R: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 {
		t.Fatalf("%+v", res)
	}
	got := res.Packages[0]
	if got.Name != "pip" || got.Version != "22.2.2" || !strings.HasPrefix(got.Purl, "pkg:conda/pip@22.2.2?build=py38h06a4308_0") {
		t.Errorf("package %+v", got)
	}
}

func TestScanBounded(t *testing.T) {
	big := bytes.NewReader(make([]byte, MaxSize+1))
	_, err := Scanner{}.Scan(context.Background(), scanner.File{Path: "conda-meta/x.json", R: big})
	if err == nil || !strings.Contains(err.Error(), "conda-meta/x.json") || !strings.Contains(err.Error(), limit.ErrTooLarge.Error()) {
		t.Fatalf("err %v", err)
	}
	res, err := Scanner{}.Scan(context.Background(), scanner.File{Path: "conda-meta/y.json", R: strings.NewReader("{")})
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "conda-meta/y.json") {
		t.Fatalf("malformed record: %+v, %v", res, err)
	}
}
