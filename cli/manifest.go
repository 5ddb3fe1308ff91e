package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/vuln"
)

func newManifest(g *globals) *cobra.Command {
	var platform string
	c := &cobra.Command{
		Use:   "manifest [flags] IMAGE...",
		Short: "Print the Clair manifest (digest, layer URLs and pull token) of registry images",
		Long: `Print the Clair manifest of each registry image: the JSON that "report"
posts to a Clair indexer. It names the manifest digest and, bottom first, each
layer's digest, its blob URL in the registry and the headers (a pull token)
the indexer needs to fetch it. Credentials come from the Docker config
(docker login) and credential helpers. The token in the output is
short-lived but is a credential: treat the output as one. (A registry with
plain Basic auth and no token service gets its Basic header passed on, as
Clair's own clairctl does: the indexer has no other way in.)`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			p, err := parsePlatform(platform)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			for _, ref := range args {
				m, err := registryManifest(ctx, ref, p, nil)
				if err != nil {
					return err
				}
				if err := enc.Encode(m); err != nil {
					return fmt.Errorf("manifest %s: %w", ref, err)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&platform, "platform", image.DefaultPlatform, "platform to pick from a multi-platform image")
	return c
}

func parsePlatform(s string) (v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("--platform %q: want os/arch[/variant]", s)
	}
	return *p, nil
}

// registryManifest resolves ref in its registry (an index to the image for
// platform) and returns the vuln.Manifest a Clair indexer needs to fetch the
// layers itself. inner carries the HTTP requests; nil means
// http.DefaultTransport.
//
// The layer headers hold the Authorization the registry accepted for this
// repository: go-containerregistry's transport does the challenge and token
// exchange (pull scope) but keeps the token to itself, so a RoundTripper
// beneath it records what it sends to the registry's /v2/ API. The layer
// URI is the registry's blob URL, not where a blob GET may redirect: those
// URLs are signed for minutes and tied to the requester.
func registryManifest(ctx context.Context, ref string, platform v1.Platform, inner http.RoundTripper) (*vuln.Manifest, error) {
	r, err := parseRegistryRef(ref)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*vuln.Manifest, error) { return nil, fmt.Errorf("manifest %s: %w", ref, err) }
	repo := r.Context()
	cred, err := authn.DefaultKeychain.Resolve(repo)
	if err != nil {
		return fail(fmt.Errorf("credentials: %w", err))
	}
	if inner == nil {
		inner = http.DefaultTransport
	}
	rec := &authRecorder{inner: inner, host: repo.RegistryStr()}
	tr, err := transport.NewWithContext(ctx, repo.Registry, cred, rec, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return fail(err)
	}
	desc, err := remote.Get(r, remote.WithContext(ctx), remote.WithTransport(tr), remote.WithPlatform(platform))
	if err != nil {
		return fail(err)
	}
	img, err := desc.Image()
	if err != nil {
		return fail(err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fail(err)
	}
	m, err := img.Manifest()
	if err != nil {
		return fail(err)
	}
	headers := map[string][]string{}
	if a := rec.authorization(); a != "" {
		headers["Authorization"] = []string{a}
	}
	base := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr()}
	out := &vuln.Manifest{Hash: digest.String(), Layers: []*vuln.ManifestLayer{}}
	for _, l := range m.Layers {
		if len(l.URLs) > 0 && !l.MediaType.IsDistributable() {
			// The blob is not in the registry, and handing the
			// registry's token to the foreign host would leak it.
			return fail(fmt.Errorf("layer %s is a foreign layer (%s), which is not supported", l.Digest, l.MediaType))
		}
		u := base
		u.Path = "/v2/" + repo.RepositoryStr() + "/blobs/" + l.Digest.String()
		out.Layers = append(out.Layers, &vuln.ManifestLayer{
			Hash:    l.Digest.String(),
			URI:     u.String(),
			Headers: maps.Clone(headers), // no aliasing between layers
		})
	}
	return out, nil
}

// parseRegistryRef accepts what people type for a registry image (including
// skopeo's "docker://" prefix) and refuses the local transports "scan"
// knows: a Clair server cannot fetch layers from this machine's files.
func parseRegistryRef(ref string) (name.Reference, error) {
	ref = strings.TrimPrefix(ref, "docker://")
	if t, _, ok := strings.Cut(ref, ":"); ok {
		switch t {
		case image.TransportDockerArchive, image.TransportOCIArchive, image.TransportOCI, image.TransportDir:
			return nil, fmt.Errorf("%s: a Clair server fetches layers from a registry; push the image and give its reference, or use 'clairctl scan'", ref)
		}
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return r, nil
}

// authRecorder remembers the Authorization header last sent to a registry's
// /v2/ API (not to its token service, which may see Basic credentials).
type authRecorder struct {
	inner http.RoundTripper
	host  string

	mu   sync.Mutex
	auth string
}

func (a *authRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == a.host && strings.HasPrefix(r.URL.Path, "/v2/") {
		if h := r.Header.Get("Authorization"); h != "" {
			a.mu.Lock()
			a.auth = h
			a.mu.Unlock()
		}
	}
	return a.inner.RoundTrip(r)
}

func (a *authRecorder) authorization() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.auth
}
