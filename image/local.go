package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TransportLayer is a single layer tarball (`docker save`'s layer.tar, a
// `tar -C rootfs -cz .`), gzip, zstd or plain, scanned as a one-layer image.
const TransportLayer = "layer"

// localPath says whether ref names something on disk that Open should read
// as a local image rather than ask a registry for: a path that exists and
// looks like one ("./x.tar", "/tmp/x", "images/x", "x.tar.gz"), or a folder
// holding an OCI layout or a docker-archive's manifest. A bare word that
// happens to be a folder in the working directory ("alpine") stays a
// registry reference unless it holds an image.
func localPath(ref string) bool {
	st, err := os.Stat(ref)
	if err != nil {
		return false
	}
	if strings.ContainsRune(ref, os.PathSeparator) || strings.ContainsRune(ref, '/') || strings.HasPrefix(ref, ".") {
		return true
	}
	if st.IsDir() {
		for _, marker := range []string{"oci-layout", "manifest.json"} {
			if _, err := os.Stat(filepath.Join(ref, marker)); err == nil {
				return true
			}
		}
		return false
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst", ".oci"} {
		if strings.HasSuffix(ref, ext) {
			return true
		}
	}
	return false
}

// openLocal opens a path by what it holds: a folder with an OCI layout is
// oci:, another folder dir:; a tar (compressed or not) holding a top-level
// manifest.json is a docker-archive, one holding oci-layout an OCI archive,
// and any other tar a single layer.
func openLocal(ctx context.Context, p string, platform v1.Platform) (*Image, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(p, "oci-layout")); err == nil {
			return openOCIDir(ctx, p, platform)
		}
		return openDir(ctx, p)
	}
	kind, err := sniffArchive(ctx, p)
	if err != nil {
		return nil, err
	}
	switch kind {
	case TransportDockerArchive:
		return openDockerArchive(ctx, p)
	case TransportOCIArchive:
		return openOCIArchive(ctx, p, platform)
	}
	return openLayerFile(ctx, p)
}

// sniffArchive reads the tar's headers (not its contents' bytes, though a
// compressed tar is inflated once to reach them) looking for the files that
// make it an image archive.
func sniffArchive(ctx context.Context, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r, err := decompressed(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return TransportLayer, nil
		}
		if err != nil {
			return "", fmt.Errorf("%s: not a tar archive: %w", p, err)
		}
		switch path.Clean(strings.TrimPrefix(h.Name, "./")) {
		case "manifest.json":
			return TransportDockerArchive, nil
		case "oci-layout":
			return TransportOCIArchive, nil
		}
	}
}

// decompressed undoes gzip or zstd by their magic bytes; plain tars pass.
func decompressed(br *bufio.Reader) (io.Reader, error) {
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		return gzip.NewReader(br)
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return br, nil
}

// openLayerFile opens a single layer tarball as a one-layer image. The
// layer's digest is the file's (as a manifest would name the blob), so the
// layer cache recognises it again; the manifest digest is derived from it.
func openLayerFile(ctx context.Context, p string) (*Image, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	md := sha256.Sum256([]byte("layer\x00" + digest))
	l := NewLayer(digest, "", size, func(ctx context.Context) (io.ReadCloser, error) {
		f, err := os.Open(abs)
		if err != nil {
			return nil, err
		}
		return f, nil
	})
	if size == 0 {
		return nil, errors.New(abs + ": empty file")
	}
	return &Image{ManifestDigest: "sha256:" + hex.EncodeToString(md[:]), Layers: []*Layer{l}}, nil
}
