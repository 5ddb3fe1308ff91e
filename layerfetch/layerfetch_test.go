package layerfetch

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/scanner"
	_ "github.com/openclair/clair/scanner/apk"
	_ "github.com/openclair/clair/scanner/distro"
	"github.com/openclair/clair/vuln"
)

// manifestHash is any valid digest: Image does not fetch the manifest.
var manifestHash = "sha256:" + strings.Repeat("ab", 32)

var (
	blobOnce   sync.Once
	blobData   []byte
	blobDigest string
	blobErr    error
)

// alpineBlob is the one layer of testdata/images/alpine-3.18.9.tar, the
// real layer of docker.io/library/alpine:3.18.9 byte for byte, and its
// digest.
func alpineBlob(t *testing.T) ([]byte, string) {
	t.Helper()
	blobOnce.Do(func() {
		f, err := os.Open(filepath.Join("..", "testdata", "images", "alpine-3.18.9.tar"))
		if err != nil {
			blobErr = err
			return
		}
		defer f.Close()
		tr := tar.NewReader(f)
		var files = map[string][]byte{}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				blobErr = err
				return
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				blobErr = err
				return
			}
			files[h.Name] = b
		}
		var man []struct{ Layers []string }
		if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
			blobErr = err
			return
		}
		if len(man) != 1 || len(man[0].Layers) != 1 {
			blobErr = fmt.Errorf("manifest.json: want one image of one layer, have %+v", man)
			return
		}
		blobData = files[man[0].Layers[0]]
		blobDigest = fmt.Sprintf("sha256:%x", sha256.Sum256(blobData))
	})
	if blobErr != nil {
		t.Fatal(blobErr)
	}
	return blobData, blobDigest
}

func manifest(digest, uri string, hdr map[string][]string) *vuln.Manifest {
	return &vuln.Manifest{Hash: manifestHash, Layers: []*vuln.ManifestLayer{{Hash: digest, URI: uri, Headers: hdr}}}
}

// readLayer opens the manifest's only layer as the indexer would and reads
// it to the end.
func readLayer(t *testing.T, ctx context.Context, f *Fetcher, m *vuln.Manifest) error {
	t.Helper()
	img, err := f.Image(m)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := img.Layers[0].Uncompressed(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

type statRec struct {
	bytes int64
	err   error
}

type statLog struct {
	mu   sync.Mutex
	recs []statRec
}

func (s *statLog) LayerFetched(n int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, statRec{n, err})
}

func (s *statLog) get() []statRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

var _ Stats = (*statLog)(nil)

// TestIndexAlpine indexes the real Alpine layer, served like a registry
// serves a blob (bearer token required), with the real scanners.
func TestIndexAlpine(t *testing.T) {
	blob, dg := alpineBlob(t)
	var (
		mu  sync.Mutex
		got []http.Header
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		if r.URL.Path != "/v2/library/alpine/blobs/"+dg {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(blob)
	}))
	defer srv.Close()

	stats := &statLog{}
	f := &Fetcher{AllowPrivate: true, Stats: stats}
	m := manifest(dg, srv.URL+"/v2/library/alpine/blobs/"+dg, map[string][]string{
		"authorization": {"Bearer tok"}, // not canonical, as JSON may have it
		"X-Test":        {"1"},
	})
	img, err := f.Image(m)
	if err != nil {
		t.Fatal(err)
	}
	if img.ManifestDigest != manifestHash || len(img.Layers) != 1 || img.Layers[0].Digest != dg {
		t.Fatalf("image = %+v", img)
	}
	ix := &index.Indexer{Scanners: scanner.All()}
	r, err := ix.Index(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Packages) != 15 {
		var names []string
		for _, p := range r.Packages {
			names = append(names, p.Name)
		}
		t.Errorf("%d packages, want 15: %v", len(r.Packages), names)
	}
	var musl bool
	for _, p := range r.Packages {
		musl = musl || p.Name == "musl"
	}
	if !musl {
		t.Error("no musl package")
	}
	var alpine bool
	for _, d := range r.Distributions {
		alpine = alpine || d.DID == "alpine" && d.VersionID == "3.18.9"
	}
	if !alpine {
		t.Errorf("distributions = %+v, want alpine 3.18.9", r.Distributions)
	}

	// Exactly the manifest's headers, plus a User-Agent: no
	// Accept-Encoding, no cookies, no Referer.
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	var keys []string
	for k := range got[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"Authorization", "User-Agent", "X-Test"}; !slices.Equal(keys, want) {
		t.Errorf("request headers %v, want %v", keys, want)
	}
	if ua := got[0].Get("User-Agent"); ua != userAgent {
		t.Errorf("User-Agent %q", ua)
	}
	if s := stats.get(); len(s) != 1 || s[0].bytes != int64(len(blob)) || s[0].err != nil {
		t.Errorf("stats = %+v, want one fetch of %d bytes without error", s, len(blob))
	}
}

// TestCallerUserAgent: a User-Agent in the headers replaces the Fetcher's.
func TestCallerUserAgent(t *testing.T) {
	blob, dg := alpineBlob(t)
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.Header.Get("User-Agent")
		w.Write(blob)
	}))
	defer srv.Close()
	f := &Fetcher{AllowPrivate: true}
	if err := readLayer(t, context.Background(), f, manifest(dg, srv.URL, map[string][]string{"User-Agent": {"clairctl/1"}})); err != nil {
		t.Fatal(err)
	}
	if ua != "clairctl/1" {
		t.Errorf("User-Agent %q", ua)
	}
}

// hosts maps test host:ports to httptest servers, for Fetcher.testDialAddr:
// the URL keeps its host name (which the redirect policy looks at) while
// the connection goes to the server.
func hosts(m map[string]*httptest.Server) func(string) string {
	return func(addr string) string {
		if s, ok := m[addr]; ok {
			return s.Listener.Addr().String()
		}
		return addr
	}
}

// TestRedirectCredentials checks that credentials go to the manifest's
// origin only, as a registry redirecting to S3 or a CDN needs.
func TestRedirectCredentials(t *testing.T) {
	blob, dg := alpineBlob(t)
	type seen struct{ host, auth, cookie, test, referer string }
	var (
		mu  sync.Mutex
		log []seen
	)
	handler := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		log = append(log, seen{r.Host, r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("X-Test"), r.Header.Get("Referer")})
		mu.Unlock()
		if to := r.URL.Query().Get("to"); to != "" {
			// The rest of the chain rides in "then".
			u := to
			if then := r.URL.Query().Get("then"); then != "" {
				u += "?to=" + then
			}
			http.Redirect(w, r, u, http.StatusTemporaryRedirect)
			return
		}
		w.Write(blob)
	}
	a := httptest.NewServer(http.HandlerFunc(handler))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(handler))
	defer b.Close()
	f := &Fetcher{AllowPrivate: true, testDialAddr: hosts(map[string]*httptest.Server{
		"registry.test:80":     a,
		"registry.test:8080":   b,
		"cdn.test:80":          b,
		"sub.registry.test:80": b,
	})}
	hdr := map[string][]string{"Authorization": {"Bearer tok"}, "Cookie": {"c=1"}, "X-Test": {"1"}}
	cred := seen{auth: "Bearer tok", cookie: "c=1", test: "1"}
	none := seen{test: "1"}
	for _, tc := range []struct {
		name string
		uri  string
		want []seen // hosts filled in below
	}{
		{"no redirect", "http://registry.test/blob", []seen{cred}},
		{"same origin", "http://registry.test/blob?to=/other", []seen{cred, cred}},
		{"other host", "http://registry.test/blob?to=http://cdn.test/blob", []seen{cred, none}},
		// Where net/http would keep the credentials:
		{"other port", "http://registry.test/blob?to=http://registry.test:8080/blob", []seen{cred, none}},
		{"subdomain", "http://registry.test/blob?to=http://sub.registry.test/blob", []seen{cred, none}},
		// Once dropped, not restored on coming back.
		{"there and back", "http://registry.test/blob?to=http://cdn.test/blob&then=http://registry.test/blob", []seen{cred, none, none}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			log = nil
			mu.Unlock()
			if err := readLayer(t, context.Background(), f, manifest(dg, tc.uri, hdr)); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(log) != len(tc.want) {
				t.Fatalf("requests %+v, want %d", log, len(tc.want))
			}
			for i, s := range log {
				w := tc.want[i]
				w.host = s.host
				if s != w {
					t.Errorf("request %d to %s: got %+v, want %+v", i, s.host, s, w)
				}
			}
		})
	}
}

func TestRedirectLimits(t *testing.T) {
	_, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/file":
			w.Header().Set("Location", "file:///etc/passwd")
			w.WriteHeader(http.StatusFound)
		case "/userinfo":
			http.Redirect(w, r, "http://user:pass@cdn.test/", http.StatusFound)
		}
	}))
	defer srv.Close()
	f := &Fetcher{AllowPrivate: true}
	for path, want := range map[string]string{
		"/loop":     "stopped after 10 redirects",
		"/file":     `redirect to file:///etc/passwd: scheme "file" is not allowed`,
		"/userinfo": "redirect to http://cdn.test/: user info in the URL is not allowed",
	} {
		err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+path, nil))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "layer "+dg+": ") {
			t.Errorf("%s: error %v, want one naming the layer and saying %q", path, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pass@") {
			t.Errorf("%s: error shows the URL's password: %v", path, err)
		}
	}
}

// TestGuardDial checks the refusals made when dialling: the URL names a
// host, which resolves (here: is rewritten) to a refused address. Control
// refuses before connect, so nothing leaves the machine.
func TestGuardDial(t *testing.T) {
	_, dg := alpineBlob(t)
	for _, tc := range []struct{ addr, reason string }{
		{"127.0.0.1:8080", "loopback address"},
		{"[::1]:8080", "loopback address"},
		{"10.0.0.1:80", "private address (RFC 1918)"},
		{"169.254.169.254:80", "link-local address"},
		{"[::ffff:127.0.0.1]:80", "loopback address"},
		{"[::ffff:169.254.169.254]:80", "link-local address"},
		{"0.0.0.0:80", `"this network"`},
		{"100.64.0.1:80", "CGNAT"},
		{"[fd00::1]:80", "unique local address"},
		{"[64:ff9b::a9fe:a9fe]:80", "link-local address"},
	} {
		f := &Fetcher{testDialAddr: func(string) string { return tc.addr }}
		err := readLayer(t, context.Background(), f, manifest(dg, "http://registry.test/v2/x/blobs/"+dg, nil))
		var be *BlockedError
		if !errors.As(err, &be) {
			if strings.HasPrefix(tc.addr, "[") && err != nil && strings.Contains(err.Error(), "address family not supported") {
				t.Logf("%s: no IPv6 here: %v", tc.addr, err)
				continue
			}
			t.Errorf("%s: error %v, want a *BlockedError", tc.addr, err)
			continue
		}
		t.Logf("%s: %v", tc.addr, err)
		want := "layer " + dg + ": refusing to connect to registry.test:80 ("
		if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, tc.reason) || !strings.HasSuffix(msg, "("+DefaultPrivateHint+")") {
			t.Errorf("%s: error %q, want it to start %q and say %q", tc.addr, msg, want, tc.reason)
		}
	}
}

// TestGuardLocalhost: a name that really resolves to loopback is refused,
// and allowed with AllowPrivate.
func TestGuardLocalhost(t *testing.T) {
	blob, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(blob) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	uri := "http://localhost:" + port + "/blob"
	stats := &statLog{}
	err := readLayer(t, context.Background(), &Fetcher{Stats: stats}, manifest(dg, uri, nil))
	var be *BlockedError
	if !errors.As(err, &be) || be.Host != "localhost:"+port || be.Reason != "loopback address" {
		t.Fatalf("error %v (%#v), want a refusal of localhost:%s", err, be, port)
	}
	if !strings.HasPrefix(err.Error(), "layer "+dg+": refusing to connect to localhost:"+port+" (") {
		t.Errorf("error %q", err)
	}
	if s := stats.get(); len(s) != 1 || !errors.As(s[0].err, &be) {
		t.Errorf("stats = %+v, want the refusal", s)
	}
	if err := readLayer(t, context.Background(), &Fetcher{AllowPrivate: true}, manifest(dg, uri, nil)); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}

// TestGuardRedirect: each hop is checked, not only the first.
func TestGuardRedirect(t *testing.T) {
	blob, dg := alpineBlob(t)
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(blob) }))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	defer outer.Close()
	outerAddr := netip.MustParseAddrPort(outer.Listener.Addr().String())
	f := &Fetcher{
		// The registry is "public"; where it redirects is not.
		testAllow:    func(ap netip.AddrPort) bool { return ap == outerAddr },
		testDialAddr: hosts(map[string]*httptest.Server{"registry.test:80": outer, "internal.test:80": inner}),
	}
	for to, want := range map[string]string{
		"http://internal.test/blob":                                                     "refusing to connect to internal.test:80 (127.0.0.1:",
		"http://169.254.169.254/latest/meta-data/":                                      "refusing to connect to 169.254.169.254:80: link-local address",
		"http://[::ffff:a00:1]:8080/":                                                   "refusing to connect to [::ffff:a00:1]:8080 (10.0.0.1:8080): private address",
		"http://localhost:" + inner.URL[strings.LastIndexByte(inner.URL, ':')+1:] + "/": "refusing to connect to localhost:",
	} {
		err := readLayer(t, context.Background(), f, manifest(dg, "http://registry.test/blob?to="+to, nil))
		t.Logf("redirect to %s: %v", to, err)
		var be *BlockedError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), want) {
			t.Errorf("redirect to %s: error %v, want a refusal saying %q", to, err, want)
		}
	}
}

// TestGuardLiteral: an address literal the policy refuses is refused by
// Image, as an invalid manifest.
func TestGuardLiteral(t *testing.T) {
	_, dg := alpineBlob(t)
	for uri, want := range map[string]string{
		"http://127.0.0.1:8080/blob":          "layers[0].uri: refusing to connect to 127.0.0.1:8080: loopback address (" + DefaultPrivateHint + ")",
		"http://[::1]/blob":                   "layers[0].uri: refusing to connect to [::1]:80: loopback address",
		"https://10.0.0.1/blob":               "layers[0].uri: refusing to connect to 10.0.0.1:443: private address (RFC 1918)",
		"http://169.254.169.254/latest/":      "layers[0].uri: refusing to connect to 169.254.169.254:80: link-local address",
		"http://[::ffff:127.0.0.1]/blob":      "layers[0].uri: refusing to connect to [::ffff:127.0.0.1]:80: loopback address",
		"http://[fe80::1%25eth0]/blob":        "link-local address",
		"http://0.0.0.0/blob":                 `"this network" address`,
		"http://[ff02::1]/blob":               "multicast address",
		"http://224.0.0.1/blob":               "multicast address",
		"http://[fc00::1]/blob":               "unique local address",
		"http://100.127.255.255/blob":         "CGNAT",
		"http://192.168.1.1/blob":             "private address",
		"http://172.31.0.1/blob":              "private address",
		"http://[2002:7f00:1::]/blob":         "loopback address, embedded in 2002:7f00:1::",
		"http://[64:ff9b::7f00:1]:5000/blob":  "loopback address, embedded in",
		"http://[64:ff9b:1::808:808]:80/blob": "local-use NAT64",
	} {
		_, err := (&Fetcher{}).Image(manifest(dg, uri, nil))
		var me *ManifestError
		var be *BlockedError
		if !errors.As(err, &me) || !errors.As(err, &be) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want a *ManifestError refusing it with %q", uri, err, want)
		}
		if _, err := (&Fetcher{AllowPrivate: true}).Image(manifest(dg, uri, nil)); err != nil {
			t.Errorf("%s with AllowPrivate: %v", uri, err)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, s := range []string{
		"8.8.8.8", "1.1.1.1", "151.101.1.69", "172.32.0.1", "100.128.0.1", "169.255.0.1",
		"2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "64:ff9b::808:808", "2002:808:808::1",
	} {
		if reason, blocked := Classify(netip.MustParseAddr(s)); blocked {
			t.Errorf("%s refused: %s", s, reason)
		}
	}
	for _, s := range []string{
		"127.0.0.1", "127.255.255.254", "10.255.255.255", "172.16.0.1", "192.168.0.1", "169.254.169.254",
		"100.64.0.0", "0.0.0.0", "0.1.2.3", "224.0.0.251", "255.255.255.255", "198.18.0.1",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "fe80::1", "fe80::1%eth0",
		"fc00::1", "fdff::1", "ff02::1", "fec0::1", "::127.0.0.1", "64:ff9b::a00:1", "2002:a9fe:a9fe::1",
	} {
		if _, blocked := Classify(netip.MustParseAddr(s)); !blocked {
			t.Errorf("%s allowed", s)
		}
	}
	if _, blocked := Classify(netip.Addr{}); !blocked {
		t.Error("the zero Addr allowed")
	}
}

func TestValidate(t *testing.T) {
	_, dg := alpineBlob(t)
	ok := func() *vuln.Manifest { return manifest(dg, "https://registry.example/v2/x/blobs/"+dg, nil) }
	d512 := "sha512:" + strings.Repeat("0f", 64)
	if _, err := (&Fetcher{}).Image(ok()); err != nil {
		t.Fatalf("valid manifest: %v", err)
	}
	m := ok()
	m.Layers[0].Hash = d512
	if _, err := (&Fetcher{}).Image(m); err != nil {
		t.Fatalf("sha512 layer: %v", err)
	}
	layers := func(n int) *vuln.Manifest {
		m := ok()
		for range n - 1 {
			m.Layers = append(m.Layers, m.Layers[0])
		}
		return m
	}
	if _, err := (&Fetcher{}).Image(layers(DefaultMaxLayers)); err != nil {
		t.Fatalf("%d layers: %v", DefaultMaxLayers, err)
	}
	for _, tc := range []struct {
		name string
		edit func(m *vuln.Manifest)
		want string
	}{
		{"nil layer", func(m *vuln.Manifest) { m.Layers = append(m.Layers, nil) }, "layers[1]: missing"},
		{"no layers", func(m *vuln.Manifest) { m.Layers = nil }, "layers: no layers"},
		{"too many layers", func(m *vuln.Manifest) { *m = *layers(DefaultMaxLayers + 1) }, "layers: 1001 layers, more than the limit of 1000"},
		{"empty hash", func(m *vuln.Manifest) { m.Hash = "" }, `hash: "" is not a digest`},
		{"md5 hash", func(m *vuln.Manifest) { m.Hash = "md5:" + strings.Repeat("a", 32) }, `hash: "md5:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": unsupported algorithm "md5"`},
		{"short hash", func(m *vuln.Manifest) { m.Hash = "sha256:abc" }, `hash: "sha256:abc": want 64 hex digits after "sha256:", have 3`},
		{"upper hex", func(m *vuln.Manifest) { m.Hash = strings.ToUpper(dg) }, "hash: "},
		{"upper hex lower alg", func(m *vuln.Manifest) { m.Hash = "sha256:" + strings.ToUpper(dg[7:]) }, "want lowercase hex digits"},
		{"layer hash", func(m *vuln.Manifest) { m.Layers[0].Hash = "sha256:" + strings.Repeat("g", 64) }, "layers[0].hash: "},
		{"sha512 short", func(m *vuln.Manifest) { m.Layers[0].Hash = "sha512:" + dg[7:] }, "layers[0].hash: "},
		{"second layer", func(m *vuln.Manifest) {
			m.Layers = append(m.Layers, &vuln.ManifestLayer{Hash: dg, URI: "ftp://x/y"}, &vuln.ManifestLayer{Hash: dg, URI: "file:///etc/passwd"})
		}, `layers[1].uri: scheme "ftp" is not allowed (want http or https)`},
		{"no uri", func(m *vuln.Manifest) { m.Layers[0].URI = "" }, "layers[0].uri: missing"},
		{"file", func(m *vuln.Manifest) { m.Layers[0].URI = "file:///etc/passwd" }, `layers[0].uri: scheme "file" is not allowed`},
		{"gopher", func(m *vuln.Manifest) { m.Layers[0].URI = "gopher://x:70/_" }, `layers[0].uri: scheme "gopher" is not allowed`},
		{"relative", func(m *vuln.Manifest) { m.Layers[0].URI = "/v2/x/blobs/" + dg }, "layers[0].uri: no scheme"},
		{"no host", func(m *vuln.Manifest) { m.Layers[0].URI = "http:///x" }, "layers[0].uri: no host"},
		{"opaque", func(m *vuln.Manifest) { m.Layers[0].URI = "http:x" }, "layers[0].uri: no host"},
		{"port only", func(m *vuln.Manifest) { m.Layers[0].URI = "http://:80/x" }, "layers[0].uri: no host"},
		{"userinfo", func(m *vuln.Manifest) { m.Layers[0].URI = "https://u:secret@registry.example/x" }, "layers[0].uri: user info in the URL is not allowed"},
		{"bad port", func(m *vuln.Manifest) { m.Layers[0].URI = "https://registry.example:99999/x" }, `layers[0].uri: bad port "99999"`},
		{"unparsable", func(m *vuln.Manifest) { m.Layers[0].URI = "https://registry.example/x?sig=secret%zz\x7f" }, "layers[0].uri: "},
		{"header name", func(m *vuln.Manifest) { m.Layers[0].Headers = map[string][]string{"Bad Name": {"x"}} }, `layers[0].headers: "Bad Name" is not a valid header name`},
		{"header value", func(m *vuln.Manifest) {
			m.Layers[0].Headers = map[string][]string{"Authorization": {"Bearer x\r\nX-Injected: 1"}}
		}, "layers[0].headers: Authorization: value holds control characters"},
	} {
		m := ok()
		tc.edit(m)
		_, err := (&Fetcher{}).Image(m)
		var me *ManifestError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want a *ManifestError saying %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error shows a secret: %v", tc.name, err)
		}
	}
	if _, err := (&Fetcher{}).Image(nil); err == nil {
		t.Error("nil manifest accepted")
	}
}

func TestMaxSize(t *testing.T) {
	blob, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			// No Content-Length: the counting reader stops it.
			for i := 0; i < len(blob); i += 4096 {
				w.Write(blob[i:min(i+4096, len(blob))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(blob)))
		w.Write(blob)
	}))
	defer srv.Close()
	stats := &statLog{}
	f := &Fetcher{AllowPrivate: true, MaxSize: 100 << 10, Stats: stats}
	err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/sized", nil))
	if want := fmt.Sprintf("layer %s: blob is %d bytes, more than the limit of %d", dg, len(blob), 100<<10); err == nil || err.Error() != want {
		t.Errorf("with Content-Length: error %v, want %q", err, want)
	}
	err = readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/chunked", nil))
	if want := fmt.Sprintf("blob is more than the limit of %d bytes", 100<<10); err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "layer "+dg+": ") {
		t.Errorf("chunked: error %v, want one naming the layer and saying %q", err, want)
	}
	s := stats.get()
	if len(s) != 2 || s[0].bytes != 0 || s[0].err == nil || s[1].bytes <= 100<<10 || s[1].err == nil {
		t.Errorf("stats = %+v", s)
	}
	// The blob fits exactly.
	f = &Fetcher{AllowPrivate: true, MaxSize: int64(len(blob))}
	for _, p := range []string{"/sized", "/chunked"} {
		if err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+p, nil)); err != nil {
			t.Errorf("%s at exactly MaxSize: %v", p, err)
		}
	}
}

func TestBrokenBlobs(t *testing.T) {
	blob, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/truncated":
			// Content-Length promises the blob; the connection ends
			// halfway.
			w.Header().Set("Content-Length", fmt.Sprint(len(blob)))
			w.Write(blob[:len(blob)/2])
		case "/short":
			// Chunked and properly ended, but short: only the digest
			// tells.
			w.Write(blob[:len(blob)-10])
			w.(http.Flusher).Flush()
		case "/gzip":
			// A server compressing on the fly: the Fetcher must not have
			// asked for it nor inflate it.
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(blob)
		default:
			w.Write(blob)
		}
	}))
	defer srv.Close()
	stats := &statLog{}
	f := &Fetcher{AllowPrivate: true, Stats: stats}

	err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/truncated", nil))
	if err == nil || !strings.HasPrefix(err.Error(), "layer "+dg+": ") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: error %v, want an unexpected EOF naming the layer", err)
	}

	err = readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/short", nil))
	var de *image.DigestError
	if !errors.As(err, &de) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short: error %v, want a digest mismatch or unexpected EOF", err)
	}

	other := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("another blob")))
	err = readLayer(t, context.Background(), f, manifest(other, srv.URL+"/blob", nil))
	if !errors.As(err, &de) || de.Want != other || de.Got != dg || !strings.HasPrefix(err.Error(), "layer "+other+": content does not match its digest") {
		t.Errorf("mismatch: error %v, want a *image.DigestError naming the layer", err)
	}
	// The indexer reports it too, naming the layer.
	img, err := f.Image(manifest(other, srv.URL+"/blob", nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&index.Indexer{Scanners: scanner.All()}).Index(context.Background(), img)
	if !errors.As(err, &de) || !strings.Contains(err.Error(), other) {
		t.Errorf("index of a mismatched blob: error %v", err)
	}

	d512 := fmt.Sprintf("sha512:%x", sha512.Sum512(blob))
	if err := readLayer(t, context.Background(), f, manifest(d512, srv.URL+"/blob", nil)); err != nil {
		t.Errorf("sha512 digest: %v", err)
	}
	if err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/gzip", nil)); err != nil {
		t.Errorf("Content-Encoding: gzip: %v", err)
	}

	s := stats.get()
	if len(s) != 6 || s[0].err == nil || s[1].err == nil || s[2].err == nil || s[3].err == nil || s[4].err != nil || s[5].err != nil {
		t.Errorf("stats = %+v", s)
	}
}

func TestStatus(t *testing.T) {
	_, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\n\"message\":\"authentication required\x00\"}]}"+strings.Repeat(" pad", 1000))
	}))
	defer srv.Close()
	stats := &statLog{}
	f := &Fetcher{AllowPrivate: true, Stats: stats}
	err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/v2/x/blobs/"+dg+"?sig=secret", nil))
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 401 {
		t.Fatalf("error %v, want a *StatusError", err)
	}
	msg := err.Error()
	want := "layer " + dg + ": GET " + srv.URL + "/v2/x/blobs/" + dg + "?…: 401 Unauthorized: " +
		`{"errors":[{"code":"UNAUTHORIZED", "message":"authentication required?"}]}`
	if !strings.HasPrefix(msg, want) || strings.Contains(msg, "secret") || len(msg) > len(want)+300 {
		t.Errorf("error %q, want it to start %q, without the query, short", msg, want)
	}
	if s := stats.get(); len(s) != 1 || !errors.As(s[0].err, &se) {
		t.Errorf("stats = %+v", s)
	}
}

func TestTimeouts(t *testing.T) {
	blob, dg := alpineBlob(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall-body" {
			w.Write(blob[:64<<10])
			w.(http.Flusher).Flush()
		}
		// A server that stopped answering.
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	f := &Fetcher{AllowPrivate: true, Timeout: 300 * time.Millisecond}
	start := time.Now()
	err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/stall-body", nil))
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") || !strings.HasPrefix(err.Error(), "layer "+dg+": ") {
		t.Errorf("stalled body: error %v, want a timeout naming the layer", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stalled body: gave up after %s", d)
	}

	f = &Fetcher{AllowPrivate: true, HeaderTimeout: 200 * time.Millisecond}
	err = readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/stall-headers", nil))
	if err == nil || !strings.Contains(err.Error(), "awaiting response headers") || !strings.HasPrefix(err.Error(), "layer "+dg+": ") {
		t.Errorf("stalled headers: error %v, want a header timeout naming the layer", err)
	}

	// The caller's context, while the body streams.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	f = &Fetcher{AllowPrivate: true}
	start = time.Now()
	err = readLayer(t, ctx, f, manifest(dg, srv.URL+"/stall-body", nil))
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timed out after") {
		t.Errorf("caller's deadline: error %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("caller's deadline: gave up after %s", d)
	}
}

// TestNoProxy: the Fetcher connects directly whatever the environment says
// (see Fetcher).
func TestNoProxy(t *testing.T) {
	f := &Fetcher{}
	tr := f.httpClient().Transport.(*http.Transport)
	if tr.Proxy != nil {
		t.Error("the transport uses a proxy")
	}
	if f.httpClient().Jar != nil {
		t.Error("the client has a cookie jar")
	}
}

// TestConcurrent indexes an image whose layers are one blob many times,
// so that they are fetched in parallel through one Fetcher.
func TestConcurrent(t *testing.T) {
	blob, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(blob) }))
	defer srv.Close()
	stats := &statLog{}
	f := &Fetcher{AllowPrivate: true, Stats: stats}
	m := manifest(dg, srv.URL+"/blob", nil)
	for range 7 {
		m.Layers = append(m.Layers, m.Layers[0])
	}
	img, err := f.Image(m)
	if err != nil {
		t.Fatal(err)
	}
	r, err := (&index.Indexer{Scanners: scanner.All(), Concurrency: 4}).Index(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Packages) != 15 {
		t.Errorf("%d packages", len(r.Packages))
	}
	if s := stats.get(); len(s) != 8 {
		t.Errorf("%d fetches, want 8", len(s))
	}
}

// FuzzImage: whatever a client posts, Image does not panic, and what it
// accepts is fetchable only over http(s), from a host, without user info,
// and, by default, not from an address literal the policy refuses.
func FuzzImage(f *testing.F) {
	dg := "sha256:" + strings.Repeat("12", 32)
	f.Add(dg, "https://registry.example/v2/x/blobs/"+dg, "Authorization", "Bearer x")
	f.Add(dg, "http://127.0.0.1:5000/x", "X", "y")
	f.Add("sha512:"+strings.Repeat("0", 128), "http://[::ffff:10.0.0.1]/", "Cookie", "a=b")
	f.Add(dg, "file:///etc/passwd", "", "")
	f.Add(dg, "http://u:p@h/", "Bad Name", "a\r\nb")
	f.Add("sha256:", "//h/x", "X", "\x00")
	f.Fuzz(func(t *testing.T, hash, uri, hk, hv string) {
		m := &vuln.Manifest{Hash: manifestHash, Layers: []*vuln.ManifestLayer{{Hash: hash, URI: uri, Headers: map[string][]string{hk: {hv}}}}}
		img, err := (&Fetcher{}).Image(m)
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *ManifestError", err)
			}
			return
		}
		if len(img.Layers) != 1 || img.Layers[0].Digest != hash || checkDigest(hash) != nil {
			t.Fatalf("accepted layer %+v for hash %q", img.Layers, hash)
		}
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
			t.Fatalf("accepted URI %q", uri)
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			if _, blocked := Classify(ip); blocked {
				t.Fatalf("accepted refused literal %q", uri)
			}
		}
		if strings.ContainsAny(hv, "\r\n\x00") {
			t.Fatalf("accepted header value %q", hv)
		}
	})
}
