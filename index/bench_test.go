package index

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/scanner"
)

// The benchmark image is built from real files of this machine: Go's
// sources and packages, compilers and libraries, documentation. Four layers
// of 100-400 MB uncompressed each, gzip-compressed at the default level as
// image builders do. Building takes a minute; the result is kept in the
// system temp folder under a name that changes with the recipe, and reused.
var benchLayers = [][]string{
	{"/usr/local/go/src", "/var/lib/dpkg/status", "/usr/lib/os-release", "/etc/os-release"},
	{"/usr/lib/gcc", "/usr/lib/python3", "/usr/lib/python3.11"},
	{"/usr/lib/llvm-14"},
	{"/usr/local/go/pkg", "/usr/share/doc", "/usr/share/man"},
}

const benchRecipe = "v1"

func benchDir(b *testing.B) string {
	h := sha256.New()
	fmt.Fprint(h, benchRecipe, benchLayers)
	return filepath.Join(os.TempDir(), "openclair-index-bench-"+hex.EncodeToString(h.Sum(nil))[:12])
}

// benchLayout returns an OCI layout of the benchmark image and its layer
// blobs, building them if needed.
func benchLayout(b *testing.B) (string, []string) {
	b.Helper()
	dir := benchDir(b)
	done := filepath.Join(dir, "done")
	if _, err := os.Stat(done); err != nil {
		for _, srcs := range benchLayers {
			if _, err := os.Stat(srcs[0]); err != nil {
				b.Skipf("benchmark sources missing on this machine: %v", err)
			}
		}
		b.Logf("building the benchmark image in %s (once)", dir)
		os.RemoveAll(dir)
		if err := buildBenchLayout(dir); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	img, err := image.Open(context.Background(), "oci:"+dir, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	var blobs []string
	for _, l := range img.Layers {
		blobs = append(blobs, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(l.Digest, "sha256:")))
	}
	return dir, blobs
}

type builtLayer struct {
	digest, diffID string
	size, usize    int64
}

func buildBenchLayout(dir string) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	built := make([]builtLayer, len(benchLayers))
	errs := make([]error, len(benchLayers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, srcs := range benchLayers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			built[i], errs[i] = buildBenchLayer(blobs, srcs)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return writeLayout(dir, built)
}

// writeLayout writes the config, manifest and index of an OCI layout whose
// layer blobs are already in dir/blobs/sha256.
func writeLayout(dir string, built []builtLayer) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	cfg := v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}}
	man := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	for _, l := range built {
		h, _ := v1.NewHash(l.diffID)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, h)
		d, _ := v1.NewHash(l.digest)
		man.Layers = append(man.Layers, v1.Descriptor{MediaType: types.OCILayer, Size: l.size, Digest: d})
	}
	writeJSON := func(v any) (v1.Descriptor, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return v1.Descriptor{}, err
		}
		s := sha256.Sum256(b)
		h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
		return v1.Descriptor{Size: int64(len(b)), Digest: h}, os.WriteFile(filepath.Join(blobs, h.Hex), b, 0o644)
	}
	cd, err := writeJSON(cfg)
	if err != nil {
		return err
	}
	cd.MediaType = types.OCIConfigJSON
	man.Config = cd
	md, err := writeJSON(man)
	if err != nil {
		return err
	}
	md.MediaType = types.OCIManifestSchema1
	md.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{md}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

type countingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return c.w.Write(p)
}

// buildBenchLayer tars the sources (skipping what this user cannot read),
// gzips the tar into the blob folder, and names the blob by its digest.
func buildBenchLayer(blobs string, srcs []string) (builtLayer, error) {
	tmp, err := os.CreateTemp(blobs, "layer-*")
	if err != nil {
		return builtLayer{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	comp := &countingWriter{w: tmp, h: sha256.New()}
	bw := bufio.NewWriterSize(comp, 1<<20)
	zw := gzip.NewWriter(bw)
	plain := &countingWriter{w: zw, h: sha256.New()}
	tw := tar.NewWriter(plain)
	seenDirs := map[string]bool{}
	addParents := func(name string) error {
		var parents []string
		for d := path.Dir(name); d != "." && d != "/" && !seenDirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			seenDirs[parents[i]] = true
			if err := tw.WriteHeader(&tar.Header{Name: parents[i] + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
				return err
			}
		}
		return nil
	}
	for _, src := range srcs {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrPermission) {
					return nil
				}
				return err
			}
			name := strings.TrimPrefix(p, "/")
			info, err := d.Info()
			if err != nil {
				return nil
			}
			var link string
			switch {
			case d.IsDir():
				if seenDirs[name] {
					return nil
				}
				seenDirs[name] = true
			case d.Type()&fs.ModeSymlink != 0:
				if link, err = os.Readlink(p); err != nil {
					return nil
				}
			case !d.Type().IsRegular():
				return nil
			}
			var f *os.File
			if info.Mode().IsRegular() {
				if f, err = os.Open(p); err != nil {
					return nil // unreadable: skip
				}
				defer f.Close()
			}
			h, err := tar.FileInfoHeader(info, link)
			if err != nil {
				return err
			}
			h.Name = name
			if d.IsDir() {
				h.Name += "/"
			}
			h.Uname, h.Gname = "", ""
			if err := addParents(name); err != nil {
				return err
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if f != nil {
				if _, err := io.CopyN(tw, f, h.Size); err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
			return nil
		})
		if err != nil {
			return builtLayer{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return builtLayer{}, err
	}
	if err := zw.Close(); err != nil {
		return builtLayer{}, err
	}
	if err := bw.Flush(); err != nil {
		return builtLayer{}, err
	}
	if err := tmp.Close(); err != nil {
		return builtLayer{}, err
	}
	l := builtLayer{
		digest: "sha256:" + hex.EncodeToString(comp.h.Sum(nil)),
		diffID: "sha256:" + hex.EncodeToString(plain.h.Sum(nil)),
		size:   comp.n,
		usize:  plain.n,
	}
	return l, os.Rename(tmp.Name(), filepath.Join(blobs, strings.TrimPrefix(l.digest, "sha256:")))
}

// pythonScanner wants what a Python package scanner wants: the METADATA of
// every installed distribution.
type pythonScanner struct{ txtScanner }

func (*pythonScanner) Name() string { return "python" }
func (*pythonScanner) Wants(p string) bool {
	return strings.HasSuffix(p, "/METADATA") && strings.Contains(p, ".dist-info/")
}

func benchScanners() []scanner.Scanner {
	return []scanner.Scanner{&dpkgScanner{}, &osReleaseScanner{}, &apkScanner{}, &pythonScanner{}}
}

// coldScan opens the image and indexes it with no cache, as a first scan.
func coldScan(b *testing.B, dir string, concurrency int) int {
	img, err := image.Open(context.Background(), "oci:"+dir, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	r, err := (&Indexer{Scanners: benchScanners(), Concurrency: concurrency}).Index(context.Background(), img)
	if err != nil {
		b.Fatal(err)
	}
	return len(r.Packages)
}

// gunzipAll is the floor: `gzip -dc` of every layer to /dev/null, one after
// the other.
func gunzipAll(b *testing.B, blobs []string) {
	for _, p := range blobs {
		cmd := exec.Command("gzip", "-dc", p)
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stdout = devnull
		err = cmd.Run()
		devnull.Close()
		if err != nil {
			b.Fatalf("gzip -dc %s: %v", p, err)
		}
	}
}

// BenchmarkIndexVsGunzip measures, in one run, a cold scan of a large image
// (open + index, every layer read, no cache) against just decompressing its
// layers with `gzip -dc`. The target is x-gunzip <= 1.5. x-gunzip-serial is
// the same scan with one layer at a time, for comparison.
func BenchmarkIndexVsGunzip(b *testing.B) {
	if _, err := exec.LookPath("gzip"); err != nil {
		b.Skip("gzip not installed")
	}
	dir, blobs := benchLayout(b)
	var csize int64
	for _, p := range blobs {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		csize += st.Size()
	}
	// Warm the page cache, so that neither side pays for the disk.
	gunzipAll(b, blobs)
	b.ResetTimer()
	var tg, ti, ts time.Duration
	var npkgs int
	for range b.N {
		t0 := time.Now()
		gunzipAll(b, blobs)
		tg += time.Since(t0)
		t0 = time.Now()
		npkgs = coldScan(b, dir, 0)
		ti += time.Since(t0)
		t0 = time.Now()
		coldScan(b, dir, 1)
		ts += time.Since(t0)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(tg.Seconds()/n, "gunzip-s/op")
	b.ReportMetric(ti.Seconds()/n, "index-s/op")
	b.ReportMetric(ts.Seconds()/n, "index-serial-s/op")
	b.ReportMetric(ti.Seconds()/tg.Seconds(), "x-gunzip")
	b.ReportMetric(ts.Seconds()/tg.Seconds(), "x-gunzip-serial")
	b.ReportMetric(float64(npkgs), "packages")
	b.ReportMetric(float64(csize)/1e6, "compressed-MB")
}

// BenchmarkIndexLarge is the cold scan alone, for profiling.
func BenchmarkIndexLarge(b *testing.B) {
	dir, _ := benchLayout(b)
	b.ResetTimer()
	for range b.N {
		coldScan(b, dir, 0)
	}
}
