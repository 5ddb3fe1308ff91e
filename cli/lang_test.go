package cli

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/imagetest"
)

const shared = "../../shared/testdata"

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
	// A Java and a Node application beside the Go binary: log4j-core
	// 2.14.1 with the pom.properties Maven puts in it, and lodash 4.17.15
	// as npm installs it (the published package.json's identifying fields).
	jar := jarOf(t, map[string]string{
		"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nImplementation-Title: Apache Log4j Core\r\nImplementation-Version: 2.14.1\r\n\r\n",
		"META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties": "#Created by Apache Maven 3.6.3\nversion=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n",
	})
	lodash := `{"name":"lodash","version":"4.17.15","description":"Lodash modular utilities.","license":"MIT","main":"lodash.js","homepage":"https://lodash.com/","repository":"lodash/lodash"}`
	l2, err := imagetest.LayerTar([]imagetest.Entry{
		{Path: "usr/local/bin/app", Content: bin},
		{Path: "opt/app/lib/log4j-core-2.14.1.jar", Content: jar},
		{Path: "srv/web/node_modules/lodash/package.json", Content: []byte(lodash)},
	})
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
	for _, eco := range []string{"Go", "PyPI", "Maven", "npm"} {
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
		"maven org.apache.logging.log4j:log4j-core": "2.14.1",
		"npm lodash": "4.17.15",
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
	// Log4Shell, fixed for 2.13.0+ in 2.15.0; lodash's prototype pollution
	// in zipObjectDeep, fixed in 4.17.16.
	if fixed, ok := p["org.apache.logging.log4j:log4j-core CVE-2021-44228"]; !ok || fixed != "2.15.0" {
		t.Errorf("log4j-core CVE-2021-44228: reported %v, fixed %q", ok, fixed)
	}
	if fixed, ok := p["lodash CVE-2020-8203"]; !ok || fixed != "4.17.19" {
		t.Errorf("lodash CVE-2020-8203: reported %v, fixed %q", ok, fixed)
	}
	// GO-2021-0142: crypto/elliptic, fixed in go1.14.14 and go1.15.7.
	// The report gives the fix of the installed version's branch, not
	// the advisory's lowest.
	if fixed, ok := p["stdlib CVE-2021-3114"]; !ok || fixed != "v1.15.7" {
		t.Errorf("stdlib CVE-2021-3114: reported %v, fixed %q, want v1.15.7; %d pairs", ok, fixed, len(p))
	}
	// The table sorts distribution and language packages together and
	// says where each was found.
	table, errOut, code := clairctl(t, "--db", db, "scan", "--skip-update", "docker-archive:"+path)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	for _, want := range []string{" go: usr/local/bin/app\n", " pypi: usr/local/lib/python3.12/site-packages\n",
		" maven: opt/app/lib/log4j-core-2.14.1.jar\n", " npm: srv/web/node_modules\n"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks a row found in %q:\n%s", want, table)
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

// jarOf zips entries into a jar.
func jarOf(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(entries[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
