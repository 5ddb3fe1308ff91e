package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// An OCI layout is read here rather than with go-containerregistry's layout
// package so that a folder (oci:) and a tar of one (oci-archive:) go through
// the same code: the tar is read in place, never unpacked.

// refNameAnnotation names an image in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// openOCIDir opens an OCI layout folder. loc is DIR, or DIR:NAME to pick the
// manifest annotated with that ref name when DIR:NAME is not itself a folder.
func openOCIDir(ctx context.Context, loc string, platform v1.Platform) (*Image, error) {
	dir, name := loc, ""
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if i := strings.LastIndex(loc, ":"); i > 0 {
			if st, err := os.Stat(loc[:i]); err == nil && st.IsDir() {
				dir, name = loc[:i], loc[i+1:]
			}
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	img, err := readLayout(ctx, rootSource{root}, name, platform)
	if err != nil {
		root.Close()
		return nil, err
	}
	img.closers = append(img.closers, root.Close)
	return img, nil
}

// openOCIArchive opens a tar (compressed or not) of an OCI layout.
func openOCIArchive(ctx context.Context, p string, platform v1.Platform) (*Image, error) {
	a, err := openTarArchive(ctx, p)
	if err != nil {
		return nil, err
	}
	img, err := readLayout(ctx, a, "", platform)
	if err != nil {
		a.close()
		return nil, err
	}
	img.closers = append(img.closers, a.close)
	return img, nil
}

// rootSource reads a layout folder through os.Root, so that a symlink in a
// hostile layout cannot make us read outside it.
type rootSource struct{ root *os.Root }

func (s rootSource) open(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: not a regular file", name)
	}
	return f, st.Size(), nil
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// readBlob reads a small blob and checks it against its digest: the choice
// of manifest and the layer digests all hang on it.
func readBlob(ctx context.Context, src blobSource, d v1.Descriptor, max int64) ([]byte, error) {
	b, err := readSmall(ctx, src, blobPath(d.Digest), max)
	if err != nil {
		return nil, err
	}
	if d.Digest.Algorithm == "sha256" {
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != d.Digest.Hex {
			return nil, fmt.Errorf("%s: %w", blobPath(d.Digest), &DigestError{Want: d.Digest.String(), Got: "sha256:" + got})
		}
	}
	return b, nil
}

func readLayout(ctx context.Context, src blobSource, name string, platform v1.Platform) (*Image, error) {
	b, err := readSmall(ctx, src, "index.json", maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("not an OCI layout: %w", err)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	var cands []v1.Descriptor
	if err := collectManifests(ctx, src, idx, name, 0, &cands); err != nil {
		return nil, err
	}
	desc, err := pickManifest(cands, name, platform)
	if err != nil {
		return nil, err
	}
	mb, err := readBlob(ctx, src, desc, maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	cb, err := readBlob(ctx, src, m.Config, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cb))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest %s lists %d layers but its config has %d diff_ids", desc.Digest, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	img := &Image{ManifestDigest: desc.Digest.String()}
	for i, ld := range m.Layers {
		digest, bp := ld.Digest.String(), blobPath(ld.Digest)
		img.Layers = append(img.Layers, &Layer{
			Digest: digest,
			DiffID: cfg.RootFS.DiffIDs[i].String(),
			Size:   ld.Size,
			open: func(ctx context.Context) (io.ReadCloser, error) {
				rc, _, err := src.open(ctx, bp)
				if err != nil {
					return nil, err
				}
				return verifyDigest(rc, digest), nil
			},
		})
	}
	return img, nil
}

// maxIndexDepth bounds nested indexes (a hostile layout could loop).
const maxIndexDepth = 4

// collectManifests gathers the image manifests an index leads to, through
// nested indexes. With name set, only the top-level entries carrying that
// ref name are followed.
func collectManifests(ctx context.Context, src blobSource, idx *v1.IndexManifest, name string, depth int, out *[]v1.Descriptor) error {
	if depth > maxIndexDepth {
		return errors.New("image indexes nested too deep")
	}
	for _, d := range idx.Manifests {
		if depth == 0 && name != "" && d.Annotations[refNameAnnotation] != name {
			continue
		}
		switch d.MediaType {
		case types.OCIImageIndex, types.DockerManifestList:
			b, err := readBlob(ctx, src, d, maxManifestSize)
			if err != nil {
				return fmt.Errorf("index: %w", err)
			}
			child, err := v1.ParseIndexManifest(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("index %s: %w", d.Digest, err)
			}
			if err := collectManifests(ctx, src, child, "", depth+1, out); err != nil {
				return err
			}
		case types.OCIManifestSchema1, types.DockerManifestSchema2:
			*out = append(*out, d)
		}
	}
	return nil
}

// pickManifest takes the only image there is, or else the first whose
// platform satisfies the one asked for.
func pickManifest(cands []v1.Descriptor, name string, platform v1.Platform) (v1.Descriptor, error) {
	if len(cands) == 0 {
		if name != "" {
			return v1.Descriptor{}, fmt.Errorf("no image named %q in the layout", name)
		}
		return v1.Descriptor{}, errors.New("no image manifest in the layout")
	}
	if len(cands) == 1 {
		return cands[0], nil
	}
	var have []string
	for _, d := range cands {
		if d.Platform == nil {
			continue
		}
		if d.Platform.Satisfies(platform) {
			return d, nil
		}
		have = append(have, d.Platform.String())
	}
	return v1.Descriptor{}, fmt.Errorf("no image for platform %s (the index has %s)", platform.String(), strings.Join(have, ", "))
}
