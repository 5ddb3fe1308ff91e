// Package imagetest builds real container images for tests out of real files:
// layers from folders or from (path, content) entries, written as a
// `docker save` archive with go-containerregistry.
package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one tar entry of a layer.
type Entry struct {
	Path     string
	Content  []byte
	Linkname string // a symlink when set
	Dir      bool
}

// epoch keeps generated archives byte-identical across runs.
var epoch = time.Unix(1700000000, 0).UTC()

// LayerTar renders entries as an uncompressed tar.
func LayerTar(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Path, ModTime: epoch, Mode: 0o644, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		switch {
		case e.Dir:
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case e.Linkname != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.Linkname, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.Content))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("imagetest: %s: %w", e.Path, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.Content); err != nil {
				return nil, fmt.Errorf("imagetest: %s: %w", e.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DirEntries reads a folder into layer entries, sorted by path. The shared
// test rootfs folders lost their symlinks in git: a small regular file named
// os-release whose whole content is a relative path is turned back into the
// symlink it was in the image.
func DirEntries(root string) ([]Entry, error) {
	var out []Entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out = append(out, Entry{Path: rel + "/", Dir: true})
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, Entry{Path: rel, Linkname: t})
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if t := strings.TrimSpace(string(b)); strings.HasSuffix(rel, "os-release") && len(b) < 64 && strings.HasPrefix(t, "../") && !strings.Contains(t, "=") {
			out = append(out, Entry{Path: rel, Linkname: t})
			return nil
		}
		out = append(out, Entry{Path: rel, Content: b})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// Image builds an image from layer tars (uncompressed; gzip is applied by
// go-containerregistry when written).
func Image(layers ...[]byte) (v1.Image, error) {
	img := empty.Image
	for i, l := range layers {
		b := l
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			return nil, fmt.Errorf("imagetest: layer %d: %w", i, err)
		}
		img, err = mutate.AppendLayers(img, layer)
		if err != nil {
			return nil, fmt.Errorf("imagetest: layer %d: %w", i, err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: epoch}
	return mutate.ConfigFile(img, cf)
}

// WriteDockerArchive writes img as a `docker save` tar tagged ref.
func WriteDockerArchive(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("imagetest: %w", err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("imagetest: %s: %w", path, err)
	}
	return nil
}

// ImageFromLayers builds an image from existing layers (a real published
// layer read with tarball.LayerFromFile, say).
func ImageFromLayers(layers ...v1.Layer) (v1.Image, error) {
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return nil, fmt.Errorf("imagetest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: epoch}
	return mutate.ConfigFile(img, cf)
}
