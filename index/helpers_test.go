package index

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// The real scanners live in scanner/...; these small ones read the same
// files the same way, enough to drive the indexer.

// dpkgScanner returns one package per "Package:" stanza of a dpkg status file.
type dpkgScanner struct {
	version string
	calls   atomic.Int64
}

var _ scanner.Scanner = (*dpkgScanner)(nil)

func (*dpkgScanner) Name() string { return "dpkg" }
func (s *dpkgScanner) Version() string {
	if s.version != "" {
		return s.version
	}
	return "1"
}
func (*dpkgScanner) Kind() scanner.Kind  { return scanner.KindPackage }
func (*dpkgScanner) Wants(p string) bool { return p == "var/lib/dpkg/status" }
func (s *dpkgScanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	s.calls.Add(1)
	res := &scanner.Result{}
	var cur *vuln.Package
	sc := bufio.NewScanner(io.LimitReader(f.R, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			cur = &vuln.Package{Name: v, Kind: vuln.KindBinary, Ecosystem: "dpkg"}
			res.Packages = append(res.Packages, cur)
		case "Version":
			if cur != nil {
				cur.Version = v
			}
		case "Architecture":
			if cur != nil {
				cur.Arch = v
			}
		case "Source":
			if cur != nil {
				name, ver, _ := strings.Cut(v, " ")
				cur.Source = &vuln.Package{Name: name, Version: strings.Trim(ver, "()"), Kind: vuln.KindSource}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dpkg: %s: %w", f.Path, err)
	}
	for _, p := range res.Packages {
		if p.Source != nil && p.Source.Version == "" {
			p.Source.Version = p.Version
		}
	}
	return res, nil
}

// apkScanner reads lib/apk/db/installed.
type apkScanner struct{ calls atomic.Int64 }

func (*apkScanner) Name() string        { return "apk" }
func (*apkScanner) Version() string     { return "1" }
func (*apkScanner) Kind() scanner.Kind  { return scanner.KindPackage }
func (*apkScanner) Wants(p string) bool { return p == "lib/apk/db/installed" }
func (s *apkScanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	s.calls.Add(1)
	res := &scanner.Result{}
	var cur *vuln.Package
	sc := bufio.NewScanner(io.LimitReader(f.R, 64<<20))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "P":
			cur = &vuln.Package{Name: v, Kind: vuln.KindBinary, Ecosystem: "apk"}
			res.Packages = append(res.Packages, cur)
		case "V":
			if cur != nil {
				cur.Version = v
			}
		case "A":
			if cur != nil {
				cur.Arch = v
			}
		case "o":
			if cur != nil {
				cur.Source = &vuln.Package{Name: v, Kind: vuln.KindSource}
			}
		}
	}
	return res, sc.Err()
}

// osReleaseScanner reads os-release files and combines them: etc/ first.
type osReleaseScanner struct {
	calls atomic.Int64
	mu    sync.Mutex
	seen  []string // the paths Combine was given
}

var (
	_ scanner.Scanner  = (*osReleaseScanner)(nil)
	_ scanner.Combiner = (*osReleaseScanner)(nil)
)

func (*osReleaseScanner) Name() string       { return "osrelease" }
func (*osReleaseScanner) Version() string    { return "1" }
func (*osReleaseScanner) Kind() scanner.Kind { return scanner.KindDistribution }
func (*osReleaseScanner) Wants(p string) bool {
	return p == "etc/os-release" || p == "usr/lib/os-release"
}
func (s *osReleaseScanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	s.calls.Add(1)
	b, err := io.ReadAll(io.LimitReader(f.R, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("osrelease: %s: %w", f.Path, err)
	}
	d := &vuln.Distribution{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		switch k {
		case "ID":
			d.DID = v
		case "VERSION_ID":
			d.VersionID = v
		case "PRETTY_NAME":
			d.PrettyName = v
		case "NAME":
			d.Name = v
		}
	}
	if d.DID == "" {
		return &scanner.Result{Warnings: []string{"osrelease: " + f.Path + ": no ID"}}, nil
	}
	return &scanner.Result{Distribution: d}, nil
}

func (s *osReleaseScanner) Combine(rs map[string]*scanner.Result) *scanner.Result {
	s.mu.Lock()
	s.seen = s.seen[:0]
	for p := range rs {
		s.seen = append(s.seen, p)
	}
	s.mu.Unlock()
	out := &scanner.Result{}
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if r := rs[p]; r != nil {
			out.Warnings = append(out.Warnings, r.Warnings...)
			if r.Distribution != nil && out.Distribution == nil {
				out.Distribution = r.Distribution
			}
		}
	}
	return out
}

// txtScanner reports every *.txt file as a package named by its path whose
// version is its content: it makes visibility easy to read in tests.
type txtScanner struct{ calls atomic.Int64 }

func (*txtScanner) Name() string        { return "txt" }
func (*txtScanner) Version() string     { return "1" }
func (*txtScanner) Kind() scanner.Kind  { return scanner.KindPackage }
func (*txtScanner) Wants(p string) bool { return strings.HasSuffix(p, ".txt") }
func (s *txtScanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	s.calls.Add(1)
	b, err := io.ReadAll(io.LimitReader(f.R, 1<<10))
	if err != nil {
		return nil, err
	}
	return &scanner.Result{Packages: []*vuln.Package{{Name: f.Path, Version: strings.TrimSpace(string(b))}}}, nil
}

// tar entries for test layers.
type ent struct {
	name string
	body string
	link string // symlink target
	hard string // hardlink target
	dir  bool
}

func file(name, body string) ent   { return ent{name: name, body: body} }
func symlink(name, to string) ent  { return ent{name: name, link: to} }
func hardlink(name, to string) ent { return ent{name: name, hard: to} }
func dir(name string) ent          { return ent{name: name, dir: true} }

var epoch = time.Unix(1700000000, 0)

func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Mode: 0o644, ModTime: epoch, Typeflag: tar.TypeReg, Size: int64(len(e.body)), Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case e.hard != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.hard, 0
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

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// testLayer is a layer in memory whose opens are counted.
type testLayer struct {
	*image.Layer
	opens atomic.Int64
}

func blobLayer(blob []byte) *testLayer {
	tl := &testLayer{}
	tl.Layer = image.NewLayer(digestOf(blob), "", int64(len(blob)), func(ctx context.Context) (io.ReadCloser, error) {
		tl.opens.Add(1)
		return io.NopCloser(bytes.NewReader(blob)), nil
	})
	return tl
}

// layerOf makes a gzip layer of the entries.
func layerOf(t testing.TB, ents ...ent) *testLayer {
	t.Helper()
	return blobLayer(gz(t, tarOf(t, ents...)))
}

func fileLayer(t testing.TB, p string) *testLayer {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return blobLayer(b)
}

func imageOf(ls ...*testLayer) *image.Image {
	img := &image.Image{Ref: "test", ManifestDigest: "sha256:" + strings.Repeat("0", 64)}
	for _, l := range ls {
		img.Layers = append(img.Layers, l.Layer)
	}
	return img
}

// memStore is a LayerStore in memory that counts its calls.
type memStore struct {
	mu         sync.Mutex
	m          map[string][]byte
	gets, puts atomic.Int64
}

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) LayerScan(ctx context.Context, layer, sc, version string) ([]byte, bool, error) {
	s.gets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[layer+"|"+sc+"|"+version]
	return b, ok, nil
}

func (s *memStore) PutLayerScan(ctx context.Context, layer, sc, version string, data []byte) error {
	s.puts.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[layer+"|"+sc+"|"+version] = bytes.Clone(data)
	return nil
}

// sharedTestdata returns a folder of the shared fixtures
// (../shared/testdata from the repository root), skipping the test when
// this checkout lacks them.
func sharedTestdata(t testing.TB, elem ...string) string {
	t.Helper()
	return sharedtest.Path(t, path.Join(elem...))
}

// rootfsEntries reads one of the shared rootfs folders as tar entries. That
// checkout lost its symlinks to git: etc/os-release is a small regular file
// holding the link target ("../usr/lib/os-release"); it becomes a symlink
// again here.
func rootfsEntries(t testing.TB, root string) []ent {
	t.Helper()
	var out []ent
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out = append(out, dir(rel+"/"))
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if s := strings.TrimSpace(string(b)); len(b) < 64 && strings.HasPrefix(s, "../") && !strings.ContainsAny(s, "=\n") {
			out = append(out, symlink(rel, s))
			return nil
		}
		out = append(out, file(rel, string(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pkgs lists a report's packages as "name version" strings in id order.
func pkgs(r *vuln.IndexReport) []string {
	var out []string
	for i := 1; i <= len(r.Packages); i++ {
		p := r.Packages[fmt.Sprint(i)]
		out = append(out, p.Name+" "+p.Version)
	}
	return out
}

func findPkg(t *testing.T, r *vuln.IndexReport, name string) (*vuln.Package, *vuln.Environment) {
	t.Helper()
	for id, p := range r.Packages {
		if p.Name == name {
			envs := r.Environments[id]
			if len(envs) != 1 {
				t.Fatalf("package %s: %d environments", name, len(envs))
			}
			return p, envs[0]
		}
	}
	t.Fatalf("package %s not in the report (have %v)", name, pkgs(r))
	return nil, nil
}

func index(t *testing.T, ix *Indexer, img *image.Image) *vuln.IndexReport {
	t.Helper()
	r, err := ix.Index(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
