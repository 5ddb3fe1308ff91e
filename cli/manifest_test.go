package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/openclair/clair/vuln"
)

// testRegistry is go-containerregistry's in-memory registry, behind a token
// service shaped like Docker Hub's when auth is on: /v2/ answers 401 with a
// Bearer challenge until the request carries a token /token issued.
type testRegistry struct {
	srv  *httptest.Server
	host string // host:port, as in image references

	mu     sync.Mutex
	tokens map[string]string // token -> the scope it was issued for
}

func newTestRegistry(t *testing.T, withAuth bool) *testRegistry {
	t.Helper()
	// The keychain reads the Docker config; an empty one keeps the
	// developer's credentials out of the test.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	tr := &testRegistry{tokens: map[string]string{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !withAuth {
			reg.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/token" {
			b := make([]byte, 16)
			rand.Read(b)
			tok := hex.EncodeToString(b)
			tr.mu.Lock()
			tr.tokens[tok] = r.URL.Query().Get("scope")
			tr.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"token":%q,"expires_in":300}`, tok)
			return
		}
		if scope, ok := tr.scope(r.Header.Get("Authorization")); !ok || !allows(scope, r) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test-registry"`, r.Host))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.srv.Close)
	tr.host = strings.TrimPrefix(tr.srv.URL, "http://")
	return tr
}

func (tr *testRegistry) scope(h string) (string, bool) {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return "", false
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s, ok := tr.tokens[tok]
	return s, ok
}

// allows checks a token's scope ("repository:NAME:pull,push") against the
// repository the request is for, as a real token service's registry does:
// a token for one repository must not open another.
func allows(scope string, r *http.Request) bool {
	if r.URL.Path == "/v2/" {
		return true
	}
	for _, s := range strings.Fields(scope) {
		repo, _, ok := strings.Cut(strings.TrimPrefix(s, "repository:"), ":")
		if ok && strings.HasPrefix(r.URL.Path, "/v2/"+repo+"/") {
			return true
		}
	}
	return false
}

// pushed is an image written to a test registry and what a manifest for it
// must say.
type pushed struct {
	ref    string
	digest string
	layers []string
}

func pushImage(t *testing.T, tr *testRegistry, repoTag, archive string) pushed {
	t.Helper()
	img, err := tarball.ImageFromPath(filepath.Join(root, "testdata/images", archive), nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(tr.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(authn.Anonymous)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return describe(t, ref.String(), img)
}

func describe(t *testing.T, ref string, img v1.Image) pushed {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	p := pushed{ref: ref, digest: d.String()}
	for _, l := range m.Layers {
		p.layers = append(p.layers, l.Digest.String())
	}
	return p
}

func decodeManifests(t *testing.T, out string) []*vuln.Manifest {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var ms []*vuln.Manifest
	for dec.More() {
		var m vuln.Manifest
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("output is not a stream of manifests: %v\n%s", err, out)
		}
		ms = append(ms, &m)
	}
	return ms
}

// checkManifest fetches every layer the way a Clair indexer would (URI and
// headers alone) and checks the bytes against the layer digest. When the
// registry needs a token, it also checks that the URI alone is refused, so
// the headers are what opened it.
func checkManifest(m *vuln.Manifest, want pushed, needAuth bool) error {
	if m.Hash != want.digest {
		return fmt.Errorf("hash %s, want the pushed manifest %s", m.Hash, want.digest)
	}
	if len(m.Layers) != len(want.layers) {
		return fmt.Errorf("%d layers, want %d", len(m.Layers), len(want.layers))
	}
	for i, l := range m.Layers {
		if l.Hash != want.layers[i] {
			return fmt.Errorf("layer %d: hash %s, want %s (bottom first)", i, l.Hash, want.layers[i])
		}
		if !strings.HasSuffix(l.URI, "/blobs/"+l.Hash) {
			return fmt.Errorf("layer %d: uri %s is not the blob URL", i, l.URI)
		}
		if needAuth {
			if len(l.Headers["Authorization"]) != 1 || !strings.HasPrefix(l.Headers["Authorization"][0], "Bearer ") {
				return fmt.Errorf("layer %d: headers %v, want one bearer Authorization", i, l.Headers)
			}
			res, err := http.Get(l.URI)
			if err != nil {
				return err
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				return fmt.Errorf("layer %d: %s without headers: %s, want 401", i, l.URI, res.Status)
			}
		}
		req, err := http.NewRequest(http.MethodGet, l.URI, nil)
		if err != nil {
			return err
		}
		for k, vs := range l.Headers {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		h, _, err := v1.SHA256(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("layer %d: GET %s: %s", i, l.URI, res.Status)
		}
		if h.String() != l.Hash {
			return fmt.Errorf("layer %d: %s has bytes hashing to %s, want %s", i, l.URI, h, l.Hash)
		}
	}
	return nil
}

func TestManifestTokenRegistry(t *testing.T) {
	tr := newTestRegistry(t, true)
	alpine := pushImage(t, tr, "library/alpine:3.18.9", "alpine-3.18.9.tar")
	debian := pushImage(t, tr, "team/nginx:11", "debian-11-nginx.tar")

	out, errOut, code := clairctl(t, "manifest", alpine.ref, debian.ref)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ms := decodeManifests(t, out)
	if len(ms) != 2 {
		t.Fatalf("%d manifests, want 2:\n%s", len(ms), out)
	}
	for i, want := range []pushed{alpine, debian} {
		if err := checkManifest(ms[i], want, true); err != nil {
			t.Errorf("%s: %v", want.ref, err)
		}
	}
	// Each manifest carries a pull token for its own repository only.
	if s, _ := tr.scope(ms[0].Layers[0].Headers["Authorization"][0]); s != "repository:library/alpine:pull" {
		t.Errorf("alpine token scope %q", s)
	}
	if got := ms[0].Layers[0].URI; got != "http://"+tr.host+"/v2/library/alpine/blobs/"+alpine.layers[0] {
		t.Errorf("uri %s", got)
	}
}

func TestManifestAnonymousRegistry(t *testing.T) {
	tr := newTestRegistry(t, false)
	alpine := pushImage(t, tr, "alpine:3.18.9", "alpine-3.18.9.tar")
	out, errOut, code := clairctl(t, "manifest", "docker://"+alpine.ref)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ms := decodeManifests(t, out)
	if len(ms) != 1 {
		t.Fatalf("%d manifests", len(ms))
	}
	if err := checkManifest(ms[0], alpine, false); err != nil {
		t.Error(err)
	}
	if h := ms[0].Layers[0].Headers; len(h) != 0 {
		t.Errorf("anonymous registry: headers %v, want none", h)
	}
	if !strings.Contains(out, `"headers": {}`) {
		t.Errorf("headers should be an empty object, not null:\n%s", out)
	}
}

func TestManifestPlatform(t *testing.T) {
	tr := newTestRegistry(t, true)
	load := func(archive string) v1.Image {
		img, err := tarball.ImageFromPath(filepath.Join(root, "testdata/images", archive), nil)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	amd64, arm64 := load("alpine-3.18.9.tar"), load("ubuntu-20.04.tar")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	ref, err := name.ParseReference(tr.host + "/multi:latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithAuth(authn.Anonymous)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		platform string
		want     pushed
	}{
		{"linux/amd64", describe(t, ref.String(), amd64)},
		{"linux/arm64/v8", describe(t, ref.String(), arm64)},
	} {
		out, errOut, code := clairctl(t, "manifest", "--platform", tc.platform, ref.String())
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.platform, code, errOut)
		}
		ms := decodeManifests(t, out)
		if len(ms) != 1 {
			t.Fatalf("%d manifests", len(ms))
		}
		if err := checkManifest(ms[0], tc.want, true); err != nil {
			t.Errorf("%s: %v", tc.platform, err)
		}
	}
	_, errOut, code := clairctl(t, "manifest", "--platform", "linux/s390x", ref.String())
	if code == 0 || strings.Count(errOut, "\n") != 1 {
		t.Errorf("missing platform: exit %d, stderr %q", code, errOut)
	}
}

func TestManifestErrors(t *testing.T) {
	tr := newTestRegistry(t, true)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"manifest"}, "requires at least 1 arg"},
		{[]string{"manifest", "docker-archive:x.tar"}, "fetches layers from a registry"},
		{[]string{"manifest", "--platform", "linux", tr.host + "/x:1"}, "want os/arch"},
		{[]string{"manifest", tr.host + "/nothing:here"}, "NAME_UNKNOWN"},
	} {
		_, errOut, code := clairctl(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", tc.args, code, errOut, tc.want)
		}
	}
}
