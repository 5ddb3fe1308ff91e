// Package image opens a container image by reference and lists its layers,
// whatever holds it: a registry, a `docker save` archive, an OCI layout (a
// folder or a tar of one) or a plain root filesystem folder. It only finds
// and streams layers; reading what is in them is the index package's job.
package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options tune Open.
type Options struct {
	// Platform picks one image out of a multi-platform index, as
	// "os/arch[/variant]"; empty means "linux/amd64".
	Platform string
	// Transport carries registry requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Keychain finds registry credentials; nil pulls anonymously.
	// clairctl passes authn.DefaultKeychain: Docker's config.json
	// ($DOCKER_CONFIG), its credential helpers and credsStore, and the
	// registry's bearer-token flow with them.
	Keychain authn.Keychain
}

// DefaultPlatform is what Open picks from a multi-platform image when
// Options.Platform is empty.
const DefaultPlatform = "linux/amd64"

// Image is an opened image: its identity and its layers. Close it when done:
// some sources hold open files or temporary copies.
type Image struct {
	// Ref is the reference Open was given.
	Ref string
	// ManifestDigest is the digest of the image manifest ("sha256:..."). For
	// a docker-archive it is the digest of the Docker v2 manifest the archive
	// implies (the one `docker load` + `docker push` of a compressed archive
	// would produce); for a dir: source it is a digest of the tree listing
	// (paths, sizes, modes, mtimes, link targets), so that an unchanged
	// folder keeps its identity.
	ManifestDigest string
	// Layers are bottom first.
	Layers []*Layer

	closers []func() error
}

// Close releases what Open holds for the image (open files, temporary
// copies of compressed archives). It is safe to call more than once.
func (i *Image) Close() error {
	if i == nil {
		return nil
	}
	var errs []error
	for j := len(i.closers) - 1; j >= 0; j-- {
		if err := i.closers[j](); err != nil {
			errs = append(errs, err)
		}
	}
	i.closers = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("image: %s: close: %w", i.Ref, err)
	}
	return nil
}

// Transport prefixes Open understands. Anything else is a registry
// reference.
const (
	TransportDockerArchive = "docker-archive"
	TransportOCIArchive    = "oci-archive"
	TransportOCI           = "oci"
	TransportDir           = "dir"
)

var transports = []string{TransportDockerArchive, TransportOCIArchive, TransportOCI, TransportDir, TransportLayer}

// Open opens the image ref names. ref is "TRANSPORT:LOCATION" for a local
// source:
//
//	docker-archive:PATH   a `docker save` tar, itself gzip- or zstd-compressed or not
//	oci-archive:PATH      a tar of an OCI layout
//	oci:DIR[:NAME]        an OCI layout folder; NAME picks by org.opencontainers.image.ref.name
//	dir:PATH              a root filesystem folder, as one layer
//	layer:PATH            a single layer tarball (gzip, zstd or plain), as a one-layer image
//
// A path that exists without a prefix ("./image.tar", "/tmp/rootfs",
// "x.tar.gz", a folder holding an OCI layout) is read by what it holds: an
// OCI layout folder, another folder (dir:), a docker-archive, an OCI
// archive or a single layer. Anything else is a registry reference
// ("debian:12", "ghcr.io/x/y@sha256:..."), pulled with opt.Keychain's
// credentials (anonymously without one). A multi-platform image resolves
// to opt.Platform.
func Open(ctx context.Context, ref string, opt Options) (*Image, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, errors.New("image: empty reference")
	}
	platform, err := parsePlatform(opt.Platform)
	if err != nil {
		return nil, fmt.Errorf("image: %s: %w", ref, err)
	}
	prefix, loc, _ := strings.Cut(ref, ":")
	var img *Image
	switch prefix {
	case TransportDockerArchive, TransportOCIArchive, TransportOCI, TransportDir, TransportLayer:
		if loc == "" {
			return nil, fmt.Errorf("image: %s: missing path after %q", ref, prefix+":")
		}
	}
	switch prefix {
	case TransportDockerArchive:
		img, err = openDockerArchive(ctx, loc)
	case TransportOCIArchive:
		img, err = openOCIArchive(ctx, loc, platform)
	case TransportOCI:
		img, err = openOCIDir(ctx, loc, platform)
	case TransportDir:
		img, err = openDir(ctx, loc)
	case TransportLayer:
		img, err = openLayerFile(ctx, loc)
	case "docker":
		// skopeo's spelling of a registry reference.
		if r, ok := strings.CutPrefix(loc, "//"); ok {
			img, err = openRemote(ctx, r, platform, opt.Transport, opt.Keychain)
			break
		}
		img, err = openRemote(ctx, ref, platform, opt.Transport, opt.Keychain)
	default:
		if localPath(ref) {
			img, err = openLocal(ctx, ref, platform)
			break
		}
		img, err = openRemote(ctx, ref, platform, opt.Transport, opt.Keychain)
	}
	if err != nil {
		return nil, fmt.Errorf("image: %s: %w", ref, err)
	}
	img.Ref = ref
	return img, nil
}

func parsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		s = DefaultPlatform
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return v1.Platform{}, fmt.Errorf("platform %q: %w", s, err)
	}
	if p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant]", s)
	}
	return *p, nil
}
