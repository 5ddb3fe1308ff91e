// Package e2e scans a Wolfi image with Conda environments through the custom
// binaries' code: the CLI and the server, each with the out-of-tree "wolfi"
// feed and "conda" scanner registered by blank imports, as the mains in
// ../cmd do.
package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/openclair/clair/cli"
	"github.com/openclair/clair/config"
	_ "github.com/openclair/clair/plugins"
	"github.com/openclair/clair/server"
	"github.com/openclair/clair/vuln"

	_ "example.com/clair-wolfi/conda"
	_ "example.com/clair-wolfi/wolfi"
)

// osRelease is wolfi-base's /etc/os-release.
const osRelease = `ID=wolfi
NAME="Wolfi"
PRETTY_NAME="Wolfi"
VERSION_ID="20230201"
HOME_URL="https://wolfi.dev"
`

// installed is an apk database of Wolfi packages at versions the secdb
// sample (testdata/wolfi-security.json) speaks of: curl, busybox and zlib
// before their fixes, glibc at its fix, coreutils listed "0" (never
// affected by CVE-2016-2781 in Wolfi).
var installed = []struct{ name, version string }{
	{"busybox", "1.35.0-r2"},
	{"coreutils", "9.1-r0"},
	{"curl", "7.85.0-r0"},
	{"glibc", "2.36-r1"},
	{"zlib", "1.2.12-r2"},
}

// want are the findings the secdb sample predicts for installed.
var want = map[string]string{ // vulnerability -> package
	"CVE-2022-28391": "busybox",
	"CVE-2022-30065": "busybox",
	"CVE-2022-42916": "curl",
	"CVE-2022-32221": "curl",
	"CVE-2022-37434": "zlib",
}

func layerFiles(t *testing.T) map[string][]byte {
	var db strings.Builder
	for _, p := range installed {
		fmt.Fprintf(&db, "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:%s\nV:%s\nA:x86_64\nT:%s\nL:GPL-2.0-or-later\no:%s\n\n", p.name, p.version, p.name, p.name)
	}
	files := map[string][]byte{
		"etc/os-release":       []byte(osRelease),
		"lib/apk/db/installed": []byte(db.String()),
	}
	for _, f := range []string{"pip-22.2.2-py38h06a4308_0.json", "bzip2-1.0.8-h5eee18b_6.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		files["opt/conda/conda-meta/"+f] = b
	}
	return files
}

// layerBlob is the gzipped tar of files.
func layerBlob(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range []string{"etc/os-release", "lib/apk/db/installed", "opt/conda/conda-meta/bzip2-1.0.8-h5eee18b_6.json", "opt/conda/conda-meta/pip-22.2.2-py38h06a4308_0.json"} {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[n])
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func checkReport(t *testing.T, vr *vuln.VulnerabilityReport) {
	t.Helper()
	got := map[string]string{}
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			got[vr.Vulnerabilities[vid].Name] = vr.Packages[pid].Name
		}
	}
	for v, p := range want {
		if got[v] != p {
			t.Errorf("%s: found on %q, want %q", v, got[v], p)
		}
	}
	for v, p := range got {
		if want[v] == "" {
			t.Errorf("unexpected finding %s on %s", v, p)
		}
	}
	conda := map[string]string{}
	for _, p := range vr.Packages {
		if p.Ecosystem == "conda" {
			conda[p.Name] = p.Version
		}
	}
	if conda["pip"] != "22.2.2" || conda["bzip2"] != "1.0.8" {
		t.Errorf("conda packages = %v, want pip 22.2.2 and bzip2 1.0.8", conda)
	}
	for _, d := range vr.Distributions {
		if d.DID != "wolfi" {
			t.Errorf("distribution %+v, want wolfi", d)
		}
	}
}

func mustLayer(t *testing.T, blob []byte) v1.Layer {
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func feedURL(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("..", "testdata", "wolfi-security.json"))
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	blob := layerBlob(t, layerFiles(t))
	img, err := mutate.AppendLayers(empty.Image, mustLayer(t, blob))
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "wolfi.tar")
	ref, _ := name.ParseReference("example.com/wolfi-conda:test")
	if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), []string{"plugins"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "conda") || !strings.Contains(out.String(), "wolfi") {
		t.Fatalf("clairctl plugins: %d\n%s%s", code, out.String(), errOut.String())
	}

	out.Reset()
	errOut.Reset()
	code = cli.Run(context.Background(), []string{"--db", filepath.Join(dir, "clair.db"), "scan",
		"--only", "wolfi", "--feed", "wolfi=" + feedURL(t), "--format", "json", "docker-archive:" + tarPath}, &out, &errOut)
	if code != 0 {
		t.Fatalf("clairctl scan: exit %d\n%s", code, errOut.String())
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal(out.Bytes(), &vr); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	checkReport(t, &vr)
}

func TestServer(t *testing.T) {
	blob := layerBlob(t, layerFiles(t))
	sum := sha256.Sum256(blob)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	blobs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(blob)
	}))
	defer blobs.Close()

	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(`
http_listen_addr: 127.0.0.1:0
introspection_addr: 127.0.0.1:0
log_level: warn
indexer:
  connstring: sqlite:%s
  allow_private_networks: true
updaters:
  sets: [wolfi]
  config:
    wolfi:
      url: %s
      namespace: "wolfi:rolling"
`, filepath.Join(dir, "clair.db"), feedURL(t))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Boot(ctx, cfg, server.Options{Ready: func(api, _ string) { addr <- api }})
	}()
	defer func() {
		cancel()
		<-done
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("server: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}

	manifest := "sha256:" + strings.Repeat("ab", 32)
	body := fmt.Sprintf(`{"hash":%q,"layers":[{"hash":%q,"uri":%q,"headers":{}}]}`, manifest, digest, blobs.URL+"/layer")
	resp, err := http.Post(base+"/indexer/api/v1/index_report", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("index_report: %s", resp.Status)
	}
	// The updaters run in the background from the start: wait for the
	// report to carry the feed's findings.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/matcher/api/v1/vulnerability_report/" + manifest)
		if err != nil {
			t.Fatal(err)
		}
		var vr vuln.VulnerabilityReport
		err = json.NewDecoder(resp.Body).Decode(&vr)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK && len(vr.Vulnerabilities) > 0 {
			checkReport(t, &vr)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no findings after 60 s (last status %s, err %v)", resp.Status, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
