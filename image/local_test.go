package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestLocalPathsByContent opens images given as plain paths, the way people
// type them, and checks each is read locally by what it holds.
func TestLocalPathsByContent(t *testing.T) {
	dir := t.TempDir()
	want := buildImage(t, "linux/amd64", alpineLayer(t))

	archive := filepath.Join(dir, "image.tar")
	ref, _ := name.ParseReference("example.com/x:1")
	if err := tarball.WriteToFile(archive, ref, want); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(want); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	os.WriteFile(filepath.Join(rootfs, "etc", "os-release"), []byte("ID=alpine\nVERSION_ID=3.18.9\n"), 0o644)

	// Relative forms too: what a user types in a shell.
	wd, _ := os.Getwd()
	rel, _ := filepath.Rel(wd, archive)
	for _, c := range []struct {
		ref    string
		layers int
		dir    bool
	}{
		{archive, 1, false},
		{rel, 1, false},
		{filepath.Join(dir, "layout"), 1, false},
		{rootfs, 1, true},
	} {
		img := open(t, c.ref, Options{Transport: failTransport{t}})
		if len(img.Layers) != c.layers || (img.Layers[0].Dir != "") != c.dir {
			t.Errorf("%s: %d layers, dir %q", c.ref, len(img.Layers), img.Layers[0].Dir)
		}
		if !c.dir {
			d, _ := want.Digest()
			if img.ManifestDigest != d.String() {
				t.Errorf("%s: manifest %s, want %s", c.ref, img.ManifestDigest, d)
			}
		}
	}
}

// TestSingleLayer scans the real Alpine minirootfs, the one layer of
// docker.io/library/alpine:3.18.9, as layer:PATH and by content.
func TestSingleLayer(t *testing.T) {
	p := sharedTestdata(t, "pkgdb", "layers", "alpine-minirootfs-3.18.9-x86_64.tar.gz")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	for _, ref := range []string{"layer:" + p, p} {
		img := open(t, ref, Options{Transport: failTransport{t}})
		if len(img.Layers) != 1 || img.Layers[0].Digest != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Fatalf("%s: layers %+v", ref, img.Layers)
		}
		rc, err := img.Layers[0].Uncompressed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if strings.TrimPrefix(h.Name, "./") == "lib/apk/db/installed" {
				found = true
			}
		}
		rc.Close()
		if !found {
			t.Errorf("%s: lib/apk/db/installed not in the layer", ref)
		}
	}
	if _, err := Open(context.Background(), "layer:"+filepath.Join(t.TempDir(), "nope.tar"), Options{}); err == nil {
		t.Error("missing layer file: no error")
	}
}

// failTransport fails any registry request: a local path must never reach
// the network.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected registry request %s %s", r.Method, r.URL)
	return nil, http.ErrNotSupported
}

// TestRegistryCredentials pulls from an in-process registry that requires a
// bearer token obtained with basic credentials, the flow Docker Hub, GHCR and
// Quay use: anonymously it is refused; with Docker's config.json (through
// authn.DefaultKeychain, as clairctl does) it is read.
func TestRegistryCredentials(t *testing.T) {
	const user, pass, token = "ci", "s3cret", "tok-123"
	reg := registry.New(registry.Logger(nopLogger()))
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				http.Error(w, "bad credentials", http.StatusUnauthorized)
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"token": token})
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test",scope="repository:private/alpine:pull"`)
			http.Error(w, "auth required", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	host := u.Host

	want := buildImage(t, "linux/amd64", alpineLayer(t))
	ref, _ := name.ParseReference(host + "/private/alpine:3.18.9")
	if err := remote.Write(ref, want, remote.WithAuth(authn.FromConfig(authn.AuthConfig{RegistryToken: token}))); err != nil {
		t.Fatal(err)
	}

	if _, err := Open(context.Background(), ref.String(), Options{}); err == nil {
		t.Fatal("anonymous pull of a private image: no error")
	}
	cfgDir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", cfgDir)
	img := open(t, ref.String(), Options{Keychain: authn.DefaultKeychain})
	checkImage(t, img, want, true)
}
