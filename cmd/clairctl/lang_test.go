package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/imagetest"
)

const shared = "../../../shared/testdata"

// TestScanLanguagePackages scans an image holding a real Debian 12 Python
// rootfs (pip, setuptools and wheel dist-info folders) and, in a second
// layer, a real Go executable, against osv.dev's full Go and PyPI exports.
func TestScanLanguagePackages(t *testing.T) {
	osvDir := filepath.Join(shared, "feeds/osv")
	rootfs := filepath.Join(shared, "pkgdb/rootfs/debian-12-python3.12-slim-langflow")
	gobin := filepath.Join(shared, "pkgdb/golang-binaries/trivy-test.elf")
	for _, p := range []string{osvDir, rootfs, gobin} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("shared test data absent (%v): run where ../shared/testdata is", err)
		}
	}
	if testing.Short() {
		t.Skip("short mode: reads 13 MB of OSV exports")
	}
	base, err := imagetest.DirEntries(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := imagetest.LayerTar(base)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(gobin)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := imagetest.LayerTar([]imagetest.Entry{{Path: "usr/local/bin/app", Content: bin}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagetest.Image(l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := imagetest.WriteDockerArchive(path, "example.invalid/lang:latest", img); err != nil {
		t.Fatal(err)
	}

	// Only the two ecosystems this image needs, from a directory of <Eco>.zip.
	dir := t.TempDir()
	for _, eco := range []string{"Go", "PyPI"} {
		if err := os.Symlink(mustAbs(t, filepath.Join(osvDir, eco+".zip")), filepath.Join(dir, eco+".zip")); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "clair.db")
	if _, errOut, code := clairctl(t, "--db", db, "update", "--only", "osv", "--feed", "osv=file://"+dir); code != 0 {
		t.Fatalf("update: exit %d: %s", code, errOut)
	}
	// The distribution has data too (an excerpt is enough: the scan refuses
	// to report on a distribution with none).
	deb := "debian=file://" + filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json")
	if _, errOut, code := clairctl(t, "--db", db, "update", "--only", "debian", "--feed", deb); code != 0 {
		t.Fatalf("update: exit %d: %s", code, errOut)
	}
	vr := scanJSON(t, "--db", db, "scan", "--skip-update", "--format", "json", "docker-archive:"+path)

	byName := map[string]string{}
	for _, p := range vr.Packages {
		byName[p.Ecosystem+" "+p.Name] = p.Version
	}
	for pkg, ver := range map[string]string{
		"pypi setuptools":         "69.5.1",
		"pypi pip":                "24.0",
		"go stdlib":               "v1.15.2",
		"go golang.org/x/xerrors": "v0.0.0-20200804184101-5ec99f83aff1",
	} {
		if byName[pkg] != ver {
			t.Errorf("%s: version %q, want %q", pkg, byName[pkg], ver)
		}
	}
	p := pairs(vr)
	// GHSA-cx63-2mw6-8hw5 / PYSEC-2024-… : setuptools package_index RCE, fixed in 70.0.0.
	if fixed, ok := p["setuptools CVE-2024-6345"]; !ok || fixed != "70.0.0" {
		t.Errorf("setuptools CVE-2024-6345: reported %v, fixed %q", ok, fixed)
	}
	// GO-2021-0142: crypto/elliptic, fixed in go1.14.14 and go1.15.7.
	if _, ok := p["stdlib CVE-2021-3114"]; !ok {
		t.Errorf("stdlib CVE-2021-3114 not reported; %d pairs", len(p))
	}
	// The table groups language packages by where they were found.
	table, errOut, code := clairctl(t, "--db", db, "scan", "--skip-update", "docker-archive:"+path)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"\ngo: usr/local/bin/app\n", "\npypi: usr/local/lib/python3.12/site-packages\n"} {
		if !strings.Contains("\n"+table, want) {
			t.Errorf("table lacks the group line %q:\n%s", want, table)
		}
	}
	for k := range p {
		if k == "wheel CVE-2022-40898" {
			t.Errorf("wheel 0.43.0 is after the fix of CVE-2022-40898 (0.38.1)")
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
