package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// sharedTestdata returns the shared fixture folder (../shared/testdata from
// the repository root), skipping the test when this checkout lacks it.
func sharedTestdata(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found; cannot locate ../shared/testdata")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared", "testdata"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data %s is absent (it lives beside the repository, in ../shared/testdata): %v", p, err)
	}
	return p
}

func alpineLayer(t *testing.T) v1.Layer {
	t.Helper()
	p := sharedTestdata(t, "pkgdb", "layers", "alpine-minirootfs-3.18.9-x86_64.tar.gz")
	l, err := tarball.LayerFromFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type entry struct {
	name, body, link string
}

func tarBytes(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bytesLayer(t testing.TB, entries ...entry) v1.Layer {
	t.Helper()
	b := tarBytes(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func buildImage(t testing.TB, platform string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkImage compares what Open found with the image it was built from, and
// reads every layer to check that its tar has the DiffID the config says.
func checkImage(t *testing.T, got *Image, want v1.Image, wantManifest bool) {
	t.Helper()
	ls, err := want.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Layers) != len(ls) {
		t.Fatalf("got %d layers, want %d", len(got.Layers), len(ls))
	}
	if wantManifest {
		d, err := want.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if got.ManifestDigest != d.String() {
			t.Errorf("ManifestDigest = %s, want %s", got.ManifestDigest, d)
		}
	}
	for i, l := range ls {
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		size, _ := l.Size()
		g := got.Layers[i]
		if g.Digest != d.String() || g.DiffID != diff.String() || g.Size != size {
			t.Errorf("layer %d = {%s %s %d}, want {%s %s %d}", i, g.Digest, g.DiffID, g.Size, d, diff, size)
		}
		if sum := readLayerSum(t, g); sum != diff.String() {
			t.Errorf("layer %d: uncompressed digest %s, want %s", i, sum, diff)
		}
	}
}

func readLayerSum(t *testing.T, l *Layer) string {
	t.Helper()
	rc, err := l.Uncompressed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		t.Fatalf("layer %s: %v", l.Digest, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func open(t *testing.T, ref string, opt Options) *Image {
	t.Helper()
	img, err := Open(context.Background(), ref, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := img.Close(); err != nil {
			t.Error(err)
		}
	})
	if img.Ref != ref {
		t.Errorf("Ref = %q, want %q", img.Ref, ref)
	}
	return img
}

func TestDockerArchive(t *testing.T) {
	// A temp folder of the test's own, so that tempArchives counts only
	// this test's copies and not those of other packages' tests.
	t.Setenv("TMPDIR", t.TempDir())
	want := buildImage(t, "linux/amd64", alpineLayer(t), bytesLayer(t, entry{name: "etc/motd", body: "hello\n"}))
	p := filepath.Join(t.TempDir(), "img.tar")
	tag, _ := name.NewTag("example.com/alpine:3.18.9")
	if err := tarball.WriteToFile(p, tag, want); err != nil {
		t.Fatal(err)
	}
	img := open(t, "docker-archive:"+p, Options{})
	// Compressed layers: the manifest is the one go-containerregistry
	// computes for the same archive.
	checkImage(t, img, want, true)

	t.Run("Gzipped", func(t *testing.T) {
		gz := filepath.Join(t.TempDir(), "img.tar.gz")
		gzipFile(t, p, gz)
		before := tempArchives(t)
		img := open(t, "docker-archive:"+gz, Options{})
		checkImage(t, img, want, true)
		if err := img.Close(); err != nil {
			t.Fatal(err)
		}
		if after := tempArchives(t); after > before {
			t.Errorf("%d temporary archive copies left behind", after-before)
		}
	})
	t.Run("Tagged", func(t *testing.T) {
		img := open(t, "docker-archive:"+p+":example.com/alpine:3.18.9", Options{})
		checkImage(t, img, want, true)
		if _, err := Open(context.Background(), "docker-archive:"+p+":nope:1", Options{}); err == nil {
			t.Error("Open with an unknown tag: no error")
		}
	})
}

func tempArchives(t *testing.T) int {
	m, err := filepath.Glob(filepath.Join(os.TempDir(), "clair-archive-*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func gzipFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLegacyArchive writes what `docker save` (before Docker 25) writes:
// uncompressed layers at ID/layer.tar, named by v1 ids, not digests.
func writeLegacyArchive(t *testing.T, p string, layers [][]byte, diffIDs []string) {
	t.Helper()
	cfg := map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	}
	cb, _ := json.Marshal(cfg)
	cs := sha256.Sum256(cb)
	cfgName := hex.EncodeToString(cs[:]) + ".json"
	var names []string
	var files []entry
	for i, l := range layers {
		n := fmt.Sprintf("%064x/layer.tar", i+1)
		names = append(names, n)
		files = append(files, entry{name: n, body: string(l)})
	}
	mb, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"legacy:1"}, "Layers": names}})
	files = append(files, entry{name: cfgName, body: string(cb)}, entry{name: "manifest.json", body: string(mb)})
	if err := os.WriteFile(p, tarBytes(t, files...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func TestDockerArchiveUncompressedLayers(t *testing.T) {
	l1 := tarBytes(t, entry{name: "etc/os-release", body: "ID=test\n"})
	l2 := tarBytes(t, entry{name: "etc/motd", body: "hi\n"})
	p := filepath.Join(t.TempDir(), "legacy.tar")
	writeLegacyArchive(t, p, [][]byte{l1, l2}, []string{sha(l1), sha(l2)})
	img := open(t, "docker-archive:"+p, Options{})
	if len(img.Layers) != 2 {
		t.Fatalf("%d layers", len(img.Layers))
	}
	for i, l := range [][]byte{l1, l2} {
		g := img.Layers[i]
		// For an uncompressed blob the digest is the DiffID.
		if g.Digest != sha(l) || g.DiffID != sha(l) || g.Size != int64(len(l)) {
			t.Errorf("layer %d = %+v", i, g)
		}
		if got := readLayerSum(t, g); got != sha(l) {
			t.Errorf("layer %d content %s", i, got)
		}
	}
	if !strings.HasPrefix(img.ManifestDigest, "sha256:") || len(img.ManifestDigest) != 71 {
		t.Errorf("ManifestDigest = %q", img.ManifestDigest)
	}

	t.Run("LyingDiffID", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "lying.tar")
		bogus := sha([]byte("something else"))
		writeLegacyArchive(t, p, [][]byte{l1}, []string{bogus})
		img := open(t, "docker-archive:"+p, Options{})
		rc, err := img.Layers[0].Uncompressed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		var de *DigestError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "layer "+bogus) {
			t.Fatalf("reading a layer whose content does not match its digest: err = %v", err)
		}
	})
}

func writeLayout(t *testing.T, ii v1.ImageIndex) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if _, err := layout.Write(dir, ii); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tarDir writes a tar of dir's contents (an oci-archive of a layout).
func tarDir(t *testing.T, dir, dst string) {
	t.Helper()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = "./" + filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOCILayout(t *testing.T) {
	want := buildImage(t, "linux/amd64", alpineLayer(t), bytesLayer(t, entry{name: "etc/motd", body: "hello\n"}))
	dir := writeLayout(t, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{
		Add: want,
		Descriptor: v1.Descriptor{
			Annotations: map[string]string{refNameAnnotation: "alpine"},
		},
	}))
	t.Run("Dir", func(t *testing.T) {
		checkImage(t, open(t, "oci:"+dir, Options{}), want, true)
	})
	t.Run("DirNamed", func(t *testing.T) {
		checkImage(t, open(t, "oci:"+dir+":alpine", Options{}), want, true)
		_, err := Open(context.Background(), "oci:"+dir+":other", Options{})
		if err == nil || !strings.Contains(err.Error(), `no image named "other"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("Archive", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "img.oci.tar")
		tarDir(t, dir, p)
		checkImage(t, open(t, "oci-archive:"+p, Options{}), want, true)
		gz := p + ".gz"
		gzipFile(t, p, gz)
		checkImage(t, open(t, "oci-archive:"+gz, Options{}), want, true)
	})
	t.Run("CorruptBlob", func(t *testing.T) {
		// Same size, different bytes: only the digest check notices.
		d, _ := want.Layers()
		h, _ := d[1].Digest()
		bp := filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
		orig, err := os.ReadFile(bp)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(bp, orig, 0o644)
		bad := bytes.Clone(orig)
		bad[len(bad)-5] ^= 0xff // in the gzip trailer: the tar still reads
		if err := os.WriteFile(bp, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		img := open(t, "oci:"+dir, Options{})
		rc, err := img.Layers[1].Uncompressed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		if err == nil || !strings.Contains(err.Error(), "layer "+h.String()) {
			t.Fatalf("err = %v", err)
		}
	})
}

func multiPlatform(t *testing.T) (v1.ImageIndex, v1.Image, v1.Image) {
	amd := buildImage(t, "linux/amd64", bytesLayer(t, entry{name: "etc/arch", body: "amd64\n"}))
	arm := buildImage(t, "linux/arm64/v8", bytesLayer(t, entry{name: "etc/arch", body: "arm64\n"}))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	return idx, amd, arm
}

func TestPlatform(t *testing.T) {
	idx, amd, arm := multiPlatform(t)
	// A nested index, as buildx writes: index.json -> index -> manifests.
	dir := writeLayout(t, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx}))
	for _, tc := range []struct {
		platform string
		want     v1.Image
	}{
		{"", amd},
		{"linux/amd64", amd},
		{"linux/arm64", arm},
		{"linux/arm64/v8", arm},
	} {
		t.Run(strings.ReplaceAll(tc.platform, "/", "_"), func(t *testing.T) {
			checkImage(t, open(t, "oci:"+dir, Options{Platform: tc.platform}), tc.want, true)
		})
	}
	_, err := Open(context.Background(), "oci:"+dir, Options{Platform: "linux/s390x"})
	if err == nil || !strings.Contains(err.Error(), "no image for platform linux/s390x") {
		t.Errorf("missing platform: err = %v", err)
	}
	_, err = Open(context.Background(), "oci:"+dir, Options{Platform: "linux"})
	if err == nil || !strings.Contains(err.Error(), "os/arch") {
		t.Errorf("bad platform: err = %v", err)
	}
}

// countingTransport counts requests and refuses any that leave 127.0.0.1, so
// that no test reaches the network.
type countingTransport struct {
	n atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if h := r.URL.Hostname(); h != "127.0.0.1" {
		return nil, fmt.Errorf("test transport: refusing a request to %s", r.URL)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestRemote(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(nopLogger())))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	host := u.Host

	want := buildImage(t, "linux/amd64", alpineLayer(t), bytesLayer(t, entry{name: "etc/motd", body: "hello\n"}))
	ref, err := name.ParseReference(host + "/library/alpine:3.18.9")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, want); err != nil {
		t.Fatal(err)
	}
	idx, amd, arm := multiPlatform(t)
	iref, _ := name.ParseReference(host + "/multi:latest")
	if err := remote.WriteIndex(iref, idx); err != nil {
		t.Fatal(err)
	}

	tr := &countingTransport{}
	img := open(t, host+"/library/alpine:3.18.9", Options{Transport: tr})
	checkImage(t, img, want, true)
	if tr.n.Load() == 0 {
		t.Error("Options.Transport was not used")
	}
	d, _ := want.Digest()
	checkImage(t, open(t, host+"/library/alpine@"+d.String(), Options{Transport: tr}), want, true)
	checkImage(t, open(t, "docker://"+host+"/library/alpine:3.18.9", Options{Transport: tr}), want, true)
	checkImage(t, open(t, host+"/multi:latest", Options{Transport: tr}), amd, true)
	checkImage(t, open(t, host+"/multi:latest", Options{Transport: tr, Platform: "linux/arm64"}), arm, true)
	if _, err := Open(context.Background(), host+"/multi:latest", Options{Transport: tr, Platform: "windows/amd64"}); err == nil {
		t.Error("platform missing from the index: no error")
	}
	if _, err := Open(context.Background(), host+"/nope:1", Options{Transport: tr}); err == nil || !strings.HasPrefix(err.Error(), "image: "+host+"/nope:1: ") {
		t.Errorf("missing image: err = %v", err)
	}
}

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func TestRefParsing(t *testing.T) {
	// Registry references go to the registry, not to a transport of the
	// same name: the transport sees where each would go and refuses.
	for _, tc := range []struct{ ref, wantURL string }{
		{"debian:12", "index.docker.io/v2/library/debian/manifests/12"},
		{"ghcr.io/x/y:1", "ghcr.io/v2/x/y/manifests/1"},
		{"localhost:5000/x", "localhost:5000/v2/x/manifests/latest"},
		{"docker://debian:12", "index.docker.io/v2/library/debian/manifests/12"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			rec := &recordingTransport{}
			_, err := Open(context.Background(), tc.ref, Options{Transport: rec})
			if err == nil {
				t.Fatal("no error from a transport that refuses everything")
			}
			if !strings.HasPrefix(err.Error(), "image: "+tc.ref+": ") {
				t.Errorf("err = %v", err)
			}
			if len(rec.urls) == 0 {
				t.Fatalf("no request made")
			}
			found := false
			for _, u := range rec.urls {
				if strings.Contains(u, tc.wantURL) {
					found = true
				}
			}
			if !found {
				t.Errorf("requests %v, want one to %s", rec.urls, tc.wantURL)
			}
		})
	}
	for _, tc := range []struct{ ref, want string }{
		{"", "image: empty reference"},
		{"dir:", `image: dir:: missing path after "dir:"`},
		{"oci:", `missing path`},
		{"foo:/some/path", `image: foo:/some/path: unknown transport "foo"`},
		{"docker-archive:/nonexistent/x.tar", "image: docker-archive:/nonexistent/x.tar: "},
		{"oci-archive:/nonexistent/x.tar", "image: oci-archive:/nonexistent/x.tar: "},
		{"oci:/nonexistent/layout", "image: oci:/nonexistent/layout: "},
		{"dir:/nonexistent/rootfs", "image: dir:/nonexistent/rootfs: "},
		{"UPPER/Case:tag", "image: UPPER/Case:tag: "},
	} {
		_, err := Open(context.Background(), tc.ref, Options{Transport: &recordingTransport{}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q): err = %v, want it to contain %q", tc.ref, err, tc.want)
		}
	}
}

type recordingTransport struct{ urls []string }

// RoundTrip answers the registry ping (so that the client goes on to ask
// for the manifest) and refuses everything else.
func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.String())
	if req.URL.Path == "/v2/" {
		return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: req}, nil
	}
	return nil, errors.New("test transport: no network in tests")
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "os-release"), []byte("ID=test\n"), 0o644)
	os.Symlink("../usr/lib/os-release", filepath.Join(dir, "etc", "link"))
	img := open(t, "dir:"+dir, Options{})
	if len(img.Layers) != 1 || img.Layers[0].Dir != dir || img.Layers[0].Digest != "" || img.Layers[0].Size != 8 {
		t.Fatalf("layers = %+v", img.Layers[0])
	}
	if _, err := img.Layers[0].Uncompressed(context.Background()); err == nil {
		t.Error("Uncompressed of a directory layer: no error")
	}
	again := open(t, "dir:"+dir, Options{})
	if again.ManifestDigest != img.ManifestDigest {
		t.Errorf("digest changed without changes: %s, %s", img.ManifestDigest, again.ManifestDigest)
	}
	os.WriteFile(filepath.Join(dir, "etc", "os-release"), []byte("ID=other\n"), 0o644)
	if changed := open(t, "dir:"+dir, Options{}); changed.ManifestDigest == img.ManifestDigest {
		t.Error("digest unchanged after a file changed")
	}
	f := filepath.Join(dir, "etc", "os-release")
	if _, err := Open(context.Background(), "dir:"+f, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("dir: of a file: err = %v", err)
	}
}

func compress(t testing.TB, format string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch format {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(b)
		zw.Close()
	default:
		buf.Write(b)
	}
	return buf.Bytes()
}

func TestUncompressed(t *testing.T) {
	plain := tarBytes(t, entry{name: "etc/os-release", body: strings.Repeat("ID=test\n", 1000)})
	for _, format := range []string{"gzip", "zstd", "plain"} {
		t.Run(format, func(t *testing.T) {
			blob := compress(t, format, plain)
			var opens atomic.Int64
			l := NewLayer(sha(blob), sha(plain), int64(len(blob)), func(ctx context.Context) (io.ReadCloser, error) {
				opens.Add(1)
				return io.NopCloser(bytes.NewReader(blob)), nil
			})
			if got := readLayerSum(t, l); got != sha(plain) {
				t.Errorf("content %s, want %s", got, sha(plain))
			}
			if opens.Load() != 1 {
				t.Errorf("%d opens", opens.Load())
			}
		})
	}
	t.Run("TruncatedGzip", func(t *testing.T) {
		blob := compress(t, "gzip", plain)
		blob = blob[:len(blob)/2]
		digest := sha(blob)
		l := NewLayer(digest, "", int64(len(blob)), func(ctx context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		})
		rc, err := l.Uncompressed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		want := "layer " + digest + ": gzip: unexpected EOF"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %q", err, want)
		}
		var le *LayerError
		if !errors.As(err, &le) || le.Digest != digest || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %#v", err)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		blob := compress(t, "gzip", plain)
		l := NewLayer("sha256:x", "", 0, func(ctx context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		rc, err := l.Uncompressed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		cancel()
		_, err = io.Copy(io.Discard, rc)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("OpenError", func(t *testing.T) {
		l := NewLayer("sha256:x", "", 0, func(ctx context.Context) (io.ReadCloser, error) {
			return nil, errors.New("boom")
		})
		_, err := l.Uncompressed(context.Background())
		if err == nil || err.Error() != "layer sha256:x: boom" {
			t.Errorf("err = %v", err)
		}
	})
}
