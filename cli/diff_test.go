package cli

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/openclair/clair/internal/imagetest"
)

// upgradePair builds two images from the real debian-11-nginx image, each
// with one more layer rewriting its dpkg status: OLD without nginx, NEW
// with util-linux's packages at 2.36.1-8+deb11u2 (which fixes
// CVE-2024-28085 in bullseye). Going from OLD to NEW fixes CVE-2024-28085,
// introduces nginx's findings and leaves the rest.
func upgradePair(t *testing.T) (oldRef, newRef string) {
	t.Helper()
	src := abs(t, filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	base, err := tarball.ImageFromPath(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(base)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var status []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == "var/lib/dpkg/status" {
			if status, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if status == nil {
		t.Fatal("no dpkg status in the image")
	}
	var withoutNginx []string
	for _, st := range strings.Split(string(status), "\n\n") {
		if !strings.HasPrefix(st, "Package: nginx\n") {
			withoutNginx = append(withoutNginx, st)
		}
	}
	upgraded := strings.ReplaceAll(string(status), "2.36.1-8+deb11u1", "2.36.1-8+deb11u2")
	dir := t.TempDir()
	for i, s := range []string{strings.Join(withoutNginx, "\n\n"), upgraded} {
		layer, err := imagetest.LayerTar([]imagetest.Entry{{Path: "var/lib/dpkg/status", Content: []byte(s)}})
		if err != nil {
			t.Fatal(err)
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil })
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(base, l)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, []string{"old.tar", "new.tar"}[i])
		if err := imagetest.WriteDockerArchive(p, "example.com/app:"+[]string{"old", "new"}[i], img); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			oldRef = "docker-archive:" + p
		} else {
			newRef = "docker-archive:" + p
		}
	}
	return oldRef, newRef
}

func TestDiff(t *testing.T) {
	db, _ := debianScan(t)
	oldRef, newRef := upgradePair(t)
	out, errOut, code := clairctl(t, "diff", "--db", db, "--skip-update", "--format", "json", oldRef, newRef)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d struct {
		Old, New                string
		Fixed, Introduced, Left []struct {
			Package       struct{ Name string }
			Vulnerability struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	set := func(fs []struct {
		Package       struct{ Name string }
		Vulnerability struct{ Name string }
	}) map[string]bool {
		m := map[string]bool{}
		for _, f := range fs {
			m[f.Package.Name+" "+f.Vulnerability.Name] = true
		}
		return m
	}
	fixed, intro, left := set(d.Fixed), set(d.Introduced), set(d.Left)
	if !fixed["bsdutils CVE-2024-28085"] || !fixed["util-linux CVE-2024-28085"] {
		t.Errorf("fixed: %v", fixed)
	}
	for k := range fixed {
		if !strings.HasSuffix(k, " CVE-2024-28085") {
			t.Errorf("fixed also %s", k)
		}
	}
	if !intro["nginx CVE-2013-0337"] {
		t.Errorf("introduced: %v", intro)
	}
	for k := range intro {
		if !strings.HasPrefix(k, "nginx ") {
			t.Errorf("introduced also %s", k)
		}
	}
	if !left["bsdutils CVE-2022-0563"] || left["nginx CVE-2013-0337"] || len(left)+len(intro)+len(fixed) != 389 {
		t.Errorf("left: %d; introduced %d", len(left), len(intro))
	}

	// The pipeline gate: this change adds a Low (nginx CVE-2013-0337).
	table, errOut, code := clairctl(t, "diff", "--db", db, "--skip-update", "--fail-on", "Low", oldRef, newRef)
	if code != 1 || !strings.Contains(errOut, "gate: 1 finding at or above the gate") {
		t.Errorf("--fail-on Low: exit %d: %s", code, errOut)
	}
	if !strings.Contains(table, "Fixed: ") || !strings.Contains(table, "Introduced: ") || !strings.Contains(table, "Left: ") {
		t.Errorf("table:\n%s", table)
	}
	// The way back introduces nothing.
	_, errOut, code = clairctl(t, "diff", "--db", db, "--skip-update", "--fail-on", "Low", newRef, newRef)
	if code != 0 {
		t.Errorf("same image: exit %d: %s", code, errOut)
	}
}

func TestSBOM(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	img := "docker-archive:" + abs(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	out, errOut, code := clairctl(t, "sbom", "--db", db, img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Spec       string `json:"specVersion"`
		Components []struct {
			Name, Version, Purl string
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(out), &bom); err != nil || bom.BOMFormat != "CycloneDX" || bom.Spec != "1.6" || len(bom.Components) != 15 {
		t.Fatalf("cyclonedx: %v, %s, %d components", err, bom.BOMFormat, len(bom.Components))
	}
	found := false
	for _, c := range bom.Components {
		found = found || (c.Name == "libssl3" && c.Version == "3.1.7-r0" && strings.HasPrefix(c.Purl, "pkg:apk/alpine/libssl3@3.1.7-r0"))
	}
	if !found {
		t.Errorf("no libssl3 3.1.7-r0: %+v", bom.Components)
	}
	out, errOut, code = clairctl(t, "sbom", "--db", db, "--format", "spdx", img)
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || doc.SPDXVersion != "SPDX-2.3" || len(doc.Packages) != 15+1 { // and the image the document describes
		t.Errorf("spdx: exit %d, %v, %s %d: %s", code, err, doc.SPDXVersion, len(doc.Packages), errOut)
	}
	if _, errOut, code := clairctl(t, "sbom", "--format", "json", img); code != 2 || !strings.Contains(errOut, `--format "json": want one of cyclonedx, spdx`) {
		t.Errorf("bad format: exit %d: %s", code, errOut)
	}
}
