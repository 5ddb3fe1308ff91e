package bigreport

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclair/clair/internal/reporttest"
	"github.com/openclair/clair/internal/sharedtest"
)

// Archive writes the image as a "docker save" tar in dir (one layer: Debian
// 12's os-release and the 700-stanza dpkg status, as mkimage.py makes it)
// and returns its clairctl reference, docker-archive:PATH.
func Archive(tb testing.TB, dir string) string {
	tb.Helper()
	osrel, err := os.ReadFile(sharedtest.Path(tb, "pkgdb/rootfs/debian-12-python3.12-slim-langflow/usr/lib/os-release"))
	if err != nil {
		tb.Fatal(err)
	}
	mtime := time.Unix(1700000000, 0)
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, f := range []struct {
		name string
		data []byte
	}{{"etc/os-release", osrel}, {"var/lib/dpkg/status", Status(tb, 700)}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Size: int64(len(f.data)), Mode: 0o644, ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	diffID := sha256.Sum256(layer.Bytes())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(layer.Bytes())
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
	})
	sum := sha256.Sum256(config)
	cfgName := hex.EncodeToString(sum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"loadtest:700"}, "Layers": []string{"layer.tar.gz"}}})
	path := filepath.Join(dir, "img.tar")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	aw := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{cfgName, config}, {"layer.tar.gz", gz.Bytes()}, {"manifest.json", manifest}} {
		if err := aw.WriteHeader(&tar.Header{Name: e.name, Size: int64(len(e.data)), Mode: 0o644, ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := aw.Write(e.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := aw.Close(); err != nil {
		tb.Fatal(err)
	}
	return "docker-archive:" + path
}

// TrackerJSON unpacks the full-size Debian tracker feed into dir and
// returns its file:// URL (clairctl --feed debian=URL).
func TrackerJSON(tb testing.TB, dir string) string {
	tb.Helper()
	p := filepath.Join(dir, "tracker.json")
	if err := reporttest.Gunzip(sharedtest.Path(tb, "feeds/debian/tracker-json-from-osv.json.gz"), p); err != nil {
		tb.Fatal(err)
	}
	return "file://" + p
}
