// Command mktestdata regenerates the small real images and feed excerpts in
// testdata/ from the shared real data (../shared/testdata). Run it from the
// repository root: go run ./internal/mktestdata
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/openclair/clair/internal/imagetest"
)

const shared = "../shared/testdata"

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	if err := os.MkdirAll("testdata/images", 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll("testdata/feeds", 0o755); err != nil {
		return err
	}
	for _, im := range []struct{ dir, out, ref string }{
		{"debian-11-nginx", "debian-11-nginx.tar", "example.invalid/debian-11-nginx:test"},
		{"ubuntu-20.04-base-industio", "ubuntu-20.04.tar", "example.invalid/ubuntu-20.04:test"},
	} {
		entries, err := imagetest.DirEntries(filepath.Join(shared, "pkgdb/rootfs", im.dir))
		if err != nil {
			return err
		}
		l, err := imagetest.LayerTar(entries)
		if err != nil {
			return err
		}
		img, err := imagetest.Image(l)
		if err != nil {
			return err
		}
		if err := imagetest.WriteDockerArchive(filepath.Join("testdata/images", im.out), im.ref, img); err != nil {
			return err
		}
	}
	// The real single layer of alpine:3.18.9, as published.
	layer, err := tarball.LayerFromFile(filepath.Join(shared, "pkgdb/layers/alpine-minirootfs-3.18.9-x86_64.tar.gz"))
	if err != nil {
		return err
	}
	img, err := imagetest.ImageFromLayers(layer)
	if err != nil {
		return err
	}
	if err := imagetest.WriteDockerArchive("testdata/images/alpine-3.18.9.tar", "example.invalid/alpine:3.18.9", img); err != nil {
		return err
	}
	return debianExcerpt(filepath.Join(shared, "pkgdb/rootfs/debian-11-nginx/var/lib/dpkg/status"), "bullseye", "testdata/feeds/debian-bullseye-nginx.json")
}

// debianExcerpt keeps, from the full-size tracker JSON, the source packages
// the status file installs and only the given release.
func debianExcerpt(status, release, out string) error {
	sources, err := sourceNames(status)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(shared, "feeds/debian/tracker-json-from-osv.json.gz"))
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	var all map[string]map[string]struct {
		Description string                     `json:"description,omitempty"`
		Scope       string                     `json:"scope,omitempty"`
		DebianBug   json.RawMessage            `json:"debianbug,omitempty"`
		Releases    map[string]json.RawMessage `json:"releases"`
	}
	if err := json.NewDecoder(zr).Decode(&all); err != nil {
		return err
	}
	keep := map[string]any{}
	for src, cves := range all {
		if !sources[src] {
			continue
		}
		kc := map[string]any{}
		for id, c := range cves {
			r, ok := c.Releases[release]
			if !ok {
				continue
			}
			c.Releases = map[string]json.RawMessage{release: r}
			kc[id] = c
		}
		if len(kc) > 0 {
			keep[src] = kc
		}
	}
	b, err := json.Marshal(keep)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d source packages, %d bytes\n", out, len(keep), len(b))
	return os.WriteFile(out, b, 0o644)
}

func sourceNames(status string) (map[string]bool, error) {
	f, err := os.Open(status)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			names[v] = true
		}
		if v, ok := strings.CutPrefix(line, "Source: "); ok {
			n, _, _ := strings.Cut(v, " ")
			names[n] = true
		}
	}
	return names, sc.Err()
}
