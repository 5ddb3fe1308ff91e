package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// anonymous is the keychain of no credentials.
type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

// openRemote pulls a manifest (resolving an index to the platform) and
// config from a registry, anonymously. Layers are fetched when read, through
// the same Puller so that token exchanges are not repeated per layer;
// go-containerregistry checks each blob against its digest as it streams.
func openRemote(ctx context.Context, ref string, platform v1.Platform, tr http.RoundTripper, kc authn.Keychain) (*Image, error) {
	unknownTransport := func(t string) error {
		return fmt.Errorf("unknown transport %q (want %s:, or a registry reference)", t, strings.Join(transports, ":, "))
	}
	// go-containerregistry reads "foo:/some/path" as registry "foo:" with
	// an empty port; a port or tag never starts like a path.
	if t, rest, ok := strings.Cut(ref, ":"); ok && looksLikeTransport(t) && (rest == "" || strings.ContainsAny(rest[:1], "/.~")) {
		return nil, unknownTransport(t)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		if t, _, ok := strings.Cut(ref, ":"); ok && looksLikeTransport(t) {
			return nil, unknownTransport(t)
		}
		return nil, err
	}
	if kc == nil {
		kc = anonymous{}
	}
	opts := []remote.Option{
		remote.WithAuthFromKeychain(kc),
		remote.WithPlatform(platform),
		remote.WithUserAgent("openclair"),
	}
	if tr != nil {
		opts = append(opts, remote.WithTransport(tr))
	}
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	desc, err := puller.Get(ctx, r)
	if err != nil {
		return nil, err
	}
	img, err := desc.Image()
	if err != nil {
		return nil, err
	}
	md, err := img.Digest()
	if err != nil {
		return nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest %s lists %d layers but its config has %d diff_ids", md, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	repo := r.Context()
	out := &Image{ManifestDigest: md.String()}
	for i, ld := range m.Layers {
		if len(ld.URLs) > 0 && !ld.MediaType.IsDistributable() {
			return nil, fmt.Errorf("layer %s is a foreign layer (%s), which is not supported", ld.Digest, ld.MediaType)
		}
		dref := repo.Digest(ld.Digest.String())
		out.Layers = append(out.Layers, &Layer{
			Digest: ld.Digest.String(),
			DiffID: cfg.RootFS.DiffIDs[i].String(),
			Size:   ld.Size,
			open: func(ctx context.Context) (io.ReadCloser, error) {
				l, err := puller.Layer(ctx, dref)
				if err != nil {
					return nil, err
				}
				return l.Compressed()
			},
		})
	}
	return out, nil
}

// looksLikeTransport says whether the part of an unparseable reference
// before its first colon reads as a transport name (letters and dashes, no
// registry host or path), so that the error can say so.
func looksLikeTransport(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}
