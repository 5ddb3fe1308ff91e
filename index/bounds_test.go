package index

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/internal/hostile"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/apk"
	"github.com/openclair/clair/scanner/gobin"
	"github.com/openclair/clair/scanner/java"
	"github.com/openclair/clair/scanner/rust"
	"github.com/openclair/clair/vuln"
)

// The tests of this file build the layers of issue 11's attacks on the
// indexer (package hostile) and check each bound: indexing completes, the
// bound is kept, and a warning names the layer and the path.

func hostileLayer(t testing.TB, ents ...hostile.Entry) *testLayer {
	t.Helper()
	b, err := hostile.LayerBytes(ents...)
	if err != nil {
		t.Fatal(err)
	}
	return blobLayer(b)
}

func hasWarning(r *vuln.IndexReport, parts ...string) bool {
	return slices.ContainsFunc(r.Warnings, func(w string) bool {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				return false
			}
		}
		return true
	})
}

func execScanners() []scanner.Scanner {
	return []scanner.Scanner{&gobin.Scanner{}, &rust.Scanner{}}
}

// tempFiles counts what is left in dir.
func tempFiles(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// spyScanner sniffs like an executable scanner and records what it was
// handed.
type spyScanner struct {
	name  string
	ra    bool
	sizes []int64
}

func (s *spyScanner) Name() string                   { return s.name }
func (*spyScanner) Version() string                  { return "1" }
func (*spyScanner) Kind() scanner.Kind               { return scanner.KindPackage }
func (*spyScanner) Wants(p string) bool              { return scanner.MaybeExecutable(p) }
func (*spyScanner) Sniff(_ string, head []byte) bool { return bytes.HasPrefix(head, []byte("\x7fELF")) }
func (s *spyScanner) RandomAccess()                  {}
func (s *spyScanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	s.ra = f.RA != nil
	n, err := io.Copy(io.Discard, f.R)
	s.sizes = append(s.sizes, n)
	return nil, err
}

func TestBoundZeros(t *testing.T) {
	// 500 MiB of zeros at bin/x, wanted by the Go and Rust scanners: the
	// first bytes say it is no executable, so nothing is kept.
	n := int64(500 << 20)
	if testing.Short() {
		n = 20 << 20
	}
	tmp := t.TempDir()
	spy := &spyScanner{name: "spy"}
	l := hostileLayer(t, hostile.Zeros("bin/x", n))
	r := index(t, &Indexer{Scanners: append(execScanners(), spy), Options: Options{TempDir: tmp, MaxLayerBytes: 1 << 20}}, imageOf(l))
	if len(r.Warnings) != 0 || len(r.Packages) != 0 {
		t.Errorf("warnings %q, packages %v", r.Warnings, pkgs(r))
	}
	if spy.sizes != nil {
		t.Errorf("a sniffing scanner was handed a file of zeros: %v", spy.sizes)
	}
}

func TestBoundExecutableSpooledOnce(t *testing.T) {
	// An ELF header on 8 MiB of zeros, wanted by three scanners: kept
	// once, on disk (above MemFileBytes), and read at offsets by each.
	tmp := t.TempDir()
	spy := &spyScanner{name: "spy"}
	const n = 8 << 20
	l := hostileLayer(t, hostile.ELFZeros("bin/x", n), hostile.ELFZeros("bin/y", n))
	opts := Options{TempDir: tmp, MemFileBytes: 1 << 20, MaxLayerBytes: n + n/2}
	r := index(t, &Indexer{Scanners: append(execScanners(), spy), Options: opts}, imageOf(l))
	if !spy.ra || !slices.Equal(spy.sizes, []int64{n}) {
		t.Errorf("spy: RA %v, sizes %v", spy.ra, spy.sizes)
	}
	// The second file is past the layer's budget: a warning, once for
	// the three scanners, naming the layer and the path.
	want := "index: layer " + l.Digest + ": bin/y: not scanned: 8 MiB to spool to disk, over the layer budget of 12 MiB: budget exhausted (index options MaxLayerBytes, MaxImageBytes)"
	if !slices.Contains(r.Warnings, want) {
		t.Errorf("warnings\n%q\nwant %q", r.Warnings, want)
	}
	if c := strings.Count(strings.Join(r.Warnings, "\n"), "bin/y"); c != 1 {
		t.Errorf("%d warnings about bin/y: %q", c, r.Warnings)
	}
	if k := tempFiles(t, tmp); k != 0 {
		t.Errorf("%d temporary files left", k)
	}

	// The image's budget is shared by its layers.
	l2 := hostileLayer(t, hostile.ELFZeros("opt/z", n))
	opts.MaxLayerBytes, opts.MaxImageBytes = 0, n+n/2
	st := newMemStore()
	r = index(t, &Indexer{Store: st, Concurrency: 1, Scanners: execScanners(), Options: opts}, imageOf(l, l2))
	if !hasWarning(r, "index: layer "+l2.Digest+": opt/z: not scanned: 8 MiB to spool to disk, over the image budget of 12 MiB") {
		t.Errorf("warnings %q", r.Warnings)
	}
	// What the image's budget refused depends on the image's other
	// layers: it is not cached for other images.
	for _, tl := range []*testLayer{l, l2} {
		if _, ok, _ := st.LayerScan(context.Background(), tl.Digest, "gobin", (&gobin.Scanner{}).Version()); ok {
			t.Errorf("layer %s cached", tl.Digest)
		}
	}
	// Alone, l2 is within the budget, and cached.
	st = newMemStore()
	r = index(t, &Indexer{Store: st, Scanners: execScanners(), Options: opts}, imageOf(l2))
	if _, ok, _ := st.LayerScan(context.Background(), l2.Digest, "gobin", (&gobin.Scanner{}).Version()); !ok || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "unreadable ELF") {
		t.Errorf("alone: cached %v, warnings %q", ok, r.Warnings)
	}
}

func TestBoundFileSize(t *testing.T) {
	// A 2 GiB "jar" in a 2 MB layer: past MaxFileBytes, it is not kept
	// and no byte of it is written.
	n := int64(2 << 30)
	opts := Options{TempDir: t.TempDir()}
	if testing.Short() {
		n, opts.MaxFileBytes = 64<<20, 32<<20
	}
	l := hostileLayer(t, hostile.Zeros("app/app.jar", n), hostile.Bytes("lib/apk/db/installed", []byte("P:musl\nV:1.2.5-r0\n\n")))
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&java.Scanner{}, &apk.Scanner{}}, Options: opts}, imageOf(l))
	if !hasWarning(r, "index: layer "+l.Digest+": app/app.jar: not scanned: ", "(index option MaxFileBytes)") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if len(r.Packages) != 1 {
		t.Errorf("packages %v", pkgs(r))
	}
}

func TestBoundNestedBombs(t *testing.T) {
	// Ten jars of a few KB, each inflating a nested archive of 40 MiB:
	// the layer's budget (100 MiB here) lets two through; the others are
	// refused, before a byte is inflated, with a warning.
	const n = 40 << 20
	bomb, err := hostile.NestedBomb(n)
	if err != nil {
		t.Fatal(err)
	}
	var ents []hostile.Entry
	for i := range 10 {
		ents = append(ents, hostile.Bytes(fmt.Sprintf("app/lib/bomb%d.jar", i), bomb))
	}
	l := hostileLayer(t, ents...)
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&java.Scanner{}}, Options: Options{MaxLayerBytes: 100 << 20, TempDir: t.TempDir()}}, imageOf(l))
	refused := 0
	for _, w := range r.Warnings {
		if strings.Contains(w, "not scanned (zip bomb?)") {
			refused++
		}
	}
	if refused != 8 {
		t.Errorf("%d refused, want 8: %q", refused, r.Warnings)
	}
	if !hasWarning(r, "layer "+l.Digest+": java: app/lib/bomb9.jar!b.jar.jar!b.jar: not scanned (zip bomb?)") {
		t.Errorf("no warning names the layer and path: %q", r.Warnings)
	}

	// The image's budget bounds the layers together: two layers of two
	// bombs, 60 MiB for the image, one bomb inflated in all.
	l1 := hostileLayer(t, ents[0], ents[1])
	l2 := hostileLayer(t, ents[2], ents[3])
	r = index(t, &Indexer{Concurrency: 1, Scanners: []scanner.Scanner{&java.Scanner{}}, Options: Options{MaxImageBytes: 60 << 20, TempDir: t.TempDir()}}, imageOf(l1, l2))
	refused = 0
	for _, w := range r.Warnings {
		if strings.Contains(w, "not scanned (zip bomb?)") {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d refused, want 3: %q", refused, r.Warnings)
	}
}

func TestBoundApkPackages(t *testing.T) {
	// An apk database of a million records: read up to the layer's
	// package limit, then a warning.
	n := 1_000_000
	if testing.Short() {
		n = 60_000
	}
	l := hostileLayer(t, hostile.ApkInstalled(n))
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&apk.Scanner{}}}, imageOf(l))
	if len(r.Packages) != DefaultMaxLayerPackages {
		t.Errorf("%d packages", len(r.Packages))
	}
	if !hasWarning(r, "apk: lib/apk/db/installed: line ", fmt.Sprintf("more than %d packages; the rest not read", DefaultMaxLayerPackages)) {
		t.Errorf("warnings %q", r.Warnings)
	}

	// A scanner that ignores File.MaxPackages is cut by the indexer.
	r = index(t, &Indexer{Scanners: []scanner.Scanner{&apkScanner{}}, Options: Options{MaxLayerPackages: 100}}, imageOf(l))
	if len(r.Packages) != 100 || !hasWarning(r, "index: layer "+l.Digest+": lib/apk/db/installed: more than 100 packages in the layer (index option MaxLayerPackages)") {
		t.Errorf("%d packages, warnings %q", len(r.Packages), r.Warnings)
	}
}

func TestBoundReportSize(t *testing.T) {
	l := hostileLayer(t, hostile.ApkInstalled(1000))
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&apk.Scanner{}}, Options: Options{MaxReportBytes: 64 << 10}}, imageOf(l))
	if len(r.Packages) == 0 || len(r.Packages) >= 1000 {
		t.Errorf("%d packages", len(r.Packages))
	}
	if !hasWarning(r, "index: the report's packages passed 64 KiB (index option MaxReportBytes): ", strconv.Itoa(1000-len(r.Packages))+" packages left out") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

func TestSymlinkLoops(t *testing.T) {
	// The loops of issue 11 on top of a stock Alpine layer, with every
	// registered scanner: warnings naming the layer and the path, and
	// the rest of the image is indexed.
	alpine := fileLayer(t, sharedTestdata(t, "pkgdb", "layers", "alpine-minirootfs-3.20.3-x86_64.tar.gz"))
	loops := hostileLayer(t,
		hostile.Symlink("opt/x/a", "b"), hostile.Symlink("opt/x/b", "a"),
		hostile.Symlink("usr/local/bin/tool", "tool"),
		hostile.Symlink("node_modules/.bin/a", "b"), hostile.Symlink("node_modules/.bin/b", "a"),
	)
	r := index(t, &Indexer{Scanners: scanner.All()}, imageOf(alpine, loops))
	var want []string
	for _, p := range []string{"node_modules/.bin/a", "node_modules/.bin/b", "opt/x/a", "opt/x/b", "usr/local/bin/tool"} {
		want = append(want, "index: layer "+loops.Digest+": "+p+": symlink loop (more than 40 links to follow); not indexed")
	}
	if !slices.Equal(r.Warnings, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(r.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if len(r.Packages) < 14 || len(r.Distributions) != 1 {
		t.Errorf("%d packages, %d distributions", len(r.Packages), len(r.Distributions))
	}
}

func TestAlpineNoWarnings(t *testing.T) {
	// A stock Alpine layer has links to directories (var/run -> /run):
	// they are no dangling links, and warrant no warning.
	for _, v := range []string{"3.10.3", "3.18.9", "3.20.3"} {
		l := fileLayer(t, sharedTestdata(t, "pkgdb", "layers", "alpine-minirootfs-"+v+"-x86_64.tar.gz"))
		r := index(t, &Indexer{Scanners: scanner.All()}, imageOf(l))
		if len(r.Warnings) != 0 {
			t.Errorf("%s: warnings\n%s", v, strings.Join(r.Warnings, "\n"))
		}
	}
	// A link to nothing (or to a directory of another layer) still
	// warns, once however many scanners wanted it.
	l := hostileLayer(t, hostile.Symlink("usr/local/bin/tool", "/opt/tool/bin/tool"))
	r := index(t, &Indexer{Scanners: execScanners()}, imageOf(l))
	if len(r.Warnings) != 1 || !hasWarning(r, "index: layer "+l.Digest+": usr/local/bin/tool: symlink to opt/tool/bin/tool") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// TestBoundRSS indexes the hostile layers in a child process each,
// with every registered scanner, and checks the child's peak RSS
// (VmHWM) stays under 200 MB. Slow (gigabytes through gunzip): skipped
// with -short and under the race detector's memory overhead.
func TestBoundRSS(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("slow; not under -short or -race")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status")
	}
	bomb, err := hostile.NestedBomb(1e9)
	if err != nil {
		t.Fatal(err)
	}
	var bombs []hostile.Entry
	for i := range 10 {
		bombs = append(bombs, hostile.Bytes(fmt.Sprintf("app/lib/bomb%d.jar", i), bomb))
	}
	for _, tc := range []struct {
		name   string
		layers int
		ents   []hostile.Entry
	}{
		{"zeros-500MiB", 1, []hostile.Entry{hostile.Zeros("bin/x", 500<<20)}},
		{"zeros-500MiB-x4", 4, []hostile.Entry{hostile.Zeros("bin/x", 500<<20)}},
		{"elf-500MiB", 1, []hostile.Entry{hostile.ELFZeros("bin/x", 500<<20)}},
		{"jar-2GiB", 1, []hostile.Entry{hostile.Zeros("app/app.jar", 2<<30)}},
		{"apk-1M", 1, []hostile.Entry{hostile.ApkInstalled(1_000_000)}},
		{"nested-bombs", 1, bombs},
		{"files-1M", 1, manyFiles(1_000_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i := range tc.layers {
				p := filepath.Join(dir, fmt.Sprintf("layer%d.tar.gz", i))
				// Distinct layers: a different last file each.
				ents := append(slices.Clone(tc.ents), hostile.Bytes(fmt.Sprintf("etc/layer%d", i), []byte("x")))
				b, err := hostile.LayerBytes(ents...)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
			hwm, warnings := indexInChild(t, dir, paths)
			t.Logf("%s: peak RSS %d MiB; warnings %q", tc.name, hwm>>20, warnings)
			if hwm > 200<<20 {
				t.Errorf("peak RSS %d MiB, over 200 MiB", hwm>>20)
			}
		})
	}
}

// manyFiles is n empty files in bin/, each wanted by the executable
// scanners.
func manyFiles(n int) []hostile.Entry {
	out := make([]hostile.Entry, n)
	for i := range out {
		out[i] = hostile.Bytes(fmt.Sprintf("bin/f%07d", i), nil)
	}
	return out
}

// indexInChild runs TestBoundChild in a new process on the layer files, and
// returns its peak RSS in bytes and the report's warnings.
func indexInChild(t *testing.T, tmp string, layers []string) (int64, []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBoundChild$", "-test.v")
	cmd.Env = append(os.Environ(), "CLAIR_BOUND_CHILD="+strings.Join(layers, ","), "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var hwm int64 = -1
	var warnings []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			hwm = kb << 10
		}
		if w, ok := strings.CutPrefix(line, "WARNING "); ok {
			warnings = append(warnings, w)
		}
	}
	if hwm < 0 {
		t.Fatalf("child printed no VmHWM:\n%s", out)
	}
	return hwm, warnings
}

// TestBoundChild is the child of indexInChild.
func TestBoundChild(t *testing.T) {
	env := os.Getenv("CLAIR_BOUND_CHILD")
	if env == "" {
		t.Skip("run by TestBoundRSS")
	}
	img := &image.Image{Ref: "child"}
	for _, p := range strings.Split(env, ",") {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		img.Layers = append(img.Layers, image.NewLayer("sha256:"+filepath.Base(p), "", st.Size(), func(ctx context.Context) (io.ReadCloser, error) {
			return os.Open(p)
		}))
	}
	r, err := (&Indexer{Scanners: scanner.All()}).Index(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range r.Warnings {
		fmt.Println("WARNING " + w)
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s", b)
}

func TestExecutableReadAtOffsets(t *testing.T) {
	// A real Go executable reaches gobin through the indexer's kept copy
	// (in memory, or spooled when above MemFileBytes), and from a folder
	// layer through the file itself: the same modules each way.
	p := sharedTestdata(t, "pkgdb", "golang-binaries", "trivy-test.elf")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	l := hostileLayer(t, hostile.Bytes("usr/local/bin/trivy", b))
	dirLayer := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dirLayer, "usr/local/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirLayer, "usr/local/bin/trivy"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tc := range []struct {
		name string
		img  *image.Image
		opts Options
	}{
		{"memory", imageOf(l), Options{}},
		{"spooled", imageOf(l), Options{MemFileBytes: 1 << 10, TempDir: t.TempDir()}},
		{"folder", &image.Image{Ref: "dir", Layers: []*image.Layer{{Dir: dirLayer}}}, Options{}},
	} {
		r := index(t, &Indexer{Scanners: execScanners(), Options: tc.opts}, tc.img)
		got := pkgs(r)
		if len(got) != 5 || !slices.Contains(got, "stdlib v1.15.2") || len(r.Warnings) != 0 {
			t.Errorf("%s: packages %v, warnings %q", tc.name, got, r.Warnings)
		}
		if want == nil {
			want = got
		} else if !slices.Equal(got, want) {
			t.Errorf("%s: packages\n%v\nwant\n%v", tc.name, got, want)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	// The README's table of bounds.
	var o Options
	if o.maxFileBytes() != 512<<20 || o.maxLayerBytes() != 1<<30 || o.maxImageBytes() != 4<<30 ||
		o.maxLayerPackages() != 15_000 || o.maxReportBytes() != 8<<20 || o.memFileBytes() != 4<<20 || o.maxLayerFiles() != 200_000 {
		t.Errorf("defaults %d %d %d %d %d %d", o.maxFileBytes(), o.maxLayerBytes(), o.maxImageBytes(), o.maxLayerPackages(), o.maxReportBytes(), o.memFileBytes())
	}
	o = Options{MaxFileBytes: -1, MaxLayerPackages: -1, MaxReportBytes: 7}
	if o.maxFileBytes() != unbounded || o.maxLayerPackages() != unbounded || o.maxReportBytes() != 7 {
		t.Errorf("set: %d %d %d", o.maxFileBytes(), o.maxLayerPackages(), o.maxReportBytes())
	}
}

func TestBoundFiles(t *testing.T) {
	// Thousands of tiny files in bin/, each a candidate executable for
	// two scanners: records up to MaxLayerFiles, then one warning.
	ents := append([]hostile.Entry{hostile.Bytes("lib/apk/db/installed", []byte("P:musl\nV:1.2.5-r0\n\n"))}, manyFiles(5000)...)
	l := hostileLayer(t, ents...)
	r := index(t, &Indexer{Scanners: append(execScanners(), &apk.Scanner{}), Options: Options{MaxLayerFiles: 1000}}, imageOf(l))
	// The database counts three (apk, and the executable scanners that
	// want any extension-less file), each bin/ file two: the 499th
	// passes 1000.
	want := "index: layer " + l.Digest + ": bin/f0000498: not scanned, nor any wanted file after it: more than 1000 files wanted by the scanners in the layer (index option MaxLayerFiles)"
	if !slices.Equal(r.Warnings, []string{want}) || len(r.Packages) != 1 {
		t.Errorf("warnings %q, want %q; packages %v", r.Warnings, want, pkgs(r))
	}
}
