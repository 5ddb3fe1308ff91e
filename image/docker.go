package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerManifest is one image of a `docker save` manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// openDockerArchive reads a `docker save` archive (or one written by
// go-containerregistry's tarball package). go-containerregistry's own reader
// is not used: it rescans the whole tar for every member it opens, and for an
// archive of uncompressed layers (what `docker save` writes) it gzips every
// layer just to compute digests.
//
// loc is PATH, or PATH:REPO:TAG when the archive holds several images and
// PATH itself does not exist.
func openDockerArchive(ctx context.Context, loc string) (*Image, error) {
	p, tag := loc, ""
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if i := strings.Index(loc, ":"); i > 0 {
			if _, err := os.Stat(loc[:i]); err == nil {
				p, tag = loc[:i], loc[i+1:]
			}
		}
	}
	a, err := openTarArchive(ctx, p)
	if err != nil {
		return nil, err
	}
	img, err := readDockerArchive(ctx, a, tag)
	if err != nil {
		a.close()
		return nil, err
	}
	img.closers = append(img.closers, a.close)
	return img, nil
}

func readDockerArchive(ctx context.Context, a *tarArchive, tag string) (*Image, error) {
	b, err := readSmall(ctx, a, "manifest.json", maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("not a docker-archive: %w", err)
	}
	var ms []dockerManifest
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	m, err := pickDockerManifest(ms, tag)
	if err != nil {
		return nil, err
	}
	cfgBytes, err := readSmall(ctx, a, m.Config, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cfgBytes))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest.json lists %d layers but the config has %d diff_ids", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	sum := sha256.Sum256(cfgBytes)
	man := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{
			MediaType: types.DockerConfigJSON,
			Size:      int64(len(cfgBytes)),
			Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
		},
	}
	img := &Image{}
	for i, lp := range m.Layers {
		diffID := cfg.RootFS.DiffIDs[i].String()
		l, mt, err := dockerLayer(ctx, a, lp, diffID)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, lp, err)
		}
		h, err := v1.NewHash(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, lp, err)
		}
		man.Layers = append(man.Layers, v1.Descriptor{MediaType: mt, Size: l.Size, Digest: h})
		img.Layers = append(img.Layers, l)
	}
	raw, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	msum := sha256.Sum256(raw)
	img.ManifestDigest = "sha256:" + hex.EncodeToString(msum[:])
	return img, nil
}

func pickDockerManifest(ms []dockerManifest, tag string) (*dockerManifest, error) {
	if tag == "" {
		switch len(ms) {
		case 0:
			return nil, errors.New("manifest.json lists no image")
		case 1:
			return &ms[0], nil
		}
		var tags []string
		for _, m := range ms {
			tags = append(tags, m.RepoTags...)
		}
		return nil, fmt.Errorf("the archive holds %d images; name one as docker-archive:PATH:REPO:TAG (tags: %s)", len(ms), strings.Join(tags, ", "))
	}
	for i, m := range ms {
		for _, t := range m.RepoTags {
			if t == tag || strings.TrimPrefix(t, "docker.io/library/") == tag || strings.TrimPrefix(t, "docker.io/") == tag {
				return &ms[i], nil
			}
		}
	}
	return nil, fmt.Errorf("no image tagged %q in the archive", tag)
}

// blobName recognises member names that carry the blob's digest:
// blobs/sha256/HEX (Docker 25 and later) and HEX.tar.gz, HEX.tar,
// HEX.tar.zst (go-containerregistry). Legacy ID/layer.tar names carry a v1
// layer id, not a content digest.
var blobName = regexp.MustCompile(`^(?:blobs/sha256/([0-9a-f]{64})|([0-9a-f]{64})\.tar(?:\.gz|\.zst)?)$`)

// dockerLayer finds a layer's digest with as little reading as it can: from
// the member name, or from the config's diff_id for an uncompressed layer
// (where the two are the same by definition), hashing the blob only when
// neither says. The digest is checked again as the layer is read.
func dockerLayer(ctx context.Context, a *tarArchive, name, diffID string) (*Layer, types.MediaType, error) {
	rc, size, err := a.open(ctx, name)
	if err != nil {
		return nil, "", err
	}
	var magic [4]byte
	n, _ := io.ReadFull(rc, magic[:])
	rc.Close()
	mt := types.DockerLayer
	compressed := true
	switch {
	case bytes.HasPrefix(magic[:n], gzipMagic):
	case bytes.HasPrefix(magic[:n], zstdMagic):
		mt = types.OCILayerZStd
	default:
		mt, compressed = types.DockerUncompressedLayer, false
	}
	var digest string
	if sm := blobName.FindStringSubmatch(cleanMember(name)); sm != nil {
		digest = "sha256:" + sm[1] + sm[2]
	} else if !compressed {
		digest = diffID
	} else {
		rc, _, err := a.open(ctx, name)
		if err != nil {
			return nil, "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, &ctxReader{ctx: ctx, r: rc})
		rc.Close()
		if err != nil {
			return nil, "", err
		}
		digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	open := func(ctx context.Context) (io.ReadCloser, error) {
		rc, _, err := a.open(ctx, name)
		if err != nil {
			return nil, err
		}
		return verifyDigest(rc, digest), nil
	}
	return &Layer{Digest: digest, DiffID: diffID, Size: size, open: open}, mt, nil
}
