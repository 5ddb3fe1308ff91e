package image_test

import (
	"archive/tar"
	"context"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/internal/imagetest"
	"github.com/openclair/clair/internal/sharedtest"
)

// TestEverySourceValidates opens one real image (Alpine 3.18.9's layer) through
// every source Open knows and runs the same checks on each.
func TestEverySourceValidates(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join("..", "testdata", "images", "alpine-3.18.9.tar")
	layerPath := sharedtest.Path(t, "pkgdb/layers/alpine-minirootfs-3.18.9-x86_64.tar.gz")
	rootfs := sharedtest.Path(t, "pkgdb/rootfs/alpine-3.14-minirootfs")

	layer, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagetest.ImageFromLayers(layer)
	if err != nil {
		t.Fatal(err)
	}
	ociDir := filepath.Join(dir, "oci")
	lp, err := layout.Write(ociDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	ociTar := filepath.Join(dir, "oci.tar")
	if err := tarDir(ociDir, ociTar); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ref, _ := name.ParseReference(u.Host + "/library/alpine:3.18.9")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}

	for _, r := range []string{
		"docker-archive:" + archive,
		archive,
		"oci-archive:" + ociTar,
		"oci:" + ociDir,
		ociDir,
		"dir:" + rootfs,
		"layer:" + layerPath,
		layerPath,
		ref.String(),
	} {
		t.Run(r, func(t *testing.T) {
			got, err := image.Open(context.Background(), r, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			imagetest.Validate(t, got)
		})
	}
}

// tarDir writes the folder as a tar, paths relative to it.
func tarDir(src, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
