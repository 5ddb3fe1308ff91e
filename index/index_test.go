package index

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

const statusA = `Package: base-files
Version: 12.4
Architecture: amd64

Package: libc6
Source: glibc
Version: 2.36-9
Architecture: amd64
`

const statusB = `Package: base-files
Version: 12.4
Architecture: amd64

Package: libc6
Source: glibc
Version: 2.36-9+deb12u1
Architecture: amd64

Package: openssl
Version: 3.0.11-1
Architecture: amd64
`

const debianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
`

func TestReport(t *testing.T) {
	l1 := layerOf(t, dir("usr/"), dir("usr/lib/"), file("usr/lib/os-release", debianOSRelease), symlink("etc/os-release", "../usr/lib/os-release"), file("var/lib/dpkg/status", statusA))
	l2 := layerOf(t, file("etc/motd", "hi\n"))
	l3 := layerOf(t, file("var/lib/dpkg/status", statusB))
	l4 := layerOf(t, file("tmp/x", "y"))
	img := imageOf(l1, l2, l3, l4)
	osr := &osReleaseScanner{}
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}, osr}}, img)

	if r.ManifestHash != img.ManifestDigest || r.State != vuln.IndexFinished || !r.Success {
		t.Errorf("report header = %q %q %v", r.ManifestHash, r.State, r.Success)
	}
	if want := []string{l1.Digest, l2.Digest, l3.Digest, l4.Digest}; !slices.Equal(r.Layers, want) {
		t.Errorf("Layers = %v", r.Layers)
	}
	if want := []string{"base-files 12.4", "libc6 2.36-9+deb12u1", "openssl 3.0.11-1"}; !slices.Equal(pkgs(r), want) {
		t.Errorf("packages = %v, want %v", pkgs(r), want)
	}
	if len(r.Distributions) != 1 || r.Distributions["1"].DID != "debian" || r.Distributions["1"].VersionID != "12" || r.Distributions["1"].ID != "1" {
		t.Errorf("distributions = %+v", r.Distributions)
	}
	for _, tc := range []struct{ name, intro string }{
		// Unchanged since layer 1 although layer 3 rewrote the file.
		{"base-files", l1.Digest},
		// A new version in layer 3.
		{"libc6", l3.Digest},
		{"openssl", l3.Digest},
	} {
		p, env := findPkg(t, r, tc.name)
		if env.IntroducedIn != tc.intro {
			t.Errorf("%s introduced in %s, want %s", tc.name, env.IntroducedIn, tc.intro)
		}
		if p.PackageDB != "var/lib/dpkg/status" || env.PackageDB != "var/lib/dpkg/status" || env.DistributionID != "1" {
			t.Errorf("%s: db %q env %+v", tc.name, p.PackageDB, env)
		}
	}
	libc, _ := findPkg(t, r, "libc6")
	if libc.Source == nil || libc.Source.Name != "glibc" {
		t.Errorf("libc6 source = %+v", libc.Source)
	}
	for id := range r.Packages {
		if r.Packages[id].ID != id {
			t.Errorf("package %s has id %q", id, r.Packages[id].ID)
		}
	}
	// The combiner saw the link under its own name.
	sort.Strings(osr.seen)
	if want := []string{"etc/os-release", "usr/lib/os-release"}; !slices.Equal(osr.seen, want) {
		t.Errorf("Combine got %v, want %v", osr.seen, want)
	}
	// The report is deterministic, whatever the layer order of completion.
	again := index(t, &Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}, &osReleaseScanner{}}, Concurrency: 1}, img)
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Errorf("reports differ:\n%s\n%s", a, b)
	}
}

func TestIntroducedAfterWhiteout(t *testing.T) {
	// Deleted in layer 2, the same package put back in layer 3: it was
	// introduced in 3, not 1.
	l1 := layerOf(t, file("var/lib/dpkg/status", statusA))
	l2 := layerOf(t, file("var/lib/dpkg/.wh.status", ""))
	l3 := layerOf(t, file("var/lib/dpkg/status", statusA))
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}, imageOf(l1, l2, l3))
	if _, env := findPkg(t, r, "base-files"); env.IntroducedIn != l3.Digest {
		t.Errorf("introduced in %s, want layer 3 %s", env.IntroducedIn, l3.Digest)
	}
	// Only whited out: nothing left.
	r = index(t, &Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}, imageOf(l1, l2))
	if len(r.Packages) != 0 {
		t.Errorf("packages after whiteout: %v", pkgs(r))
	}
}

func txtReport(t *testing.T, ls ...*testLayer) []string {
	t.Helper()
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&txtScanner{}}}, imageOf(ls...))
	return pkgs(r)
}

func TestWhiteouts(t *testing.T) {
	layers := sharedTestdata(t, "pkgdb", "layers")
	lower := layerOf(t,
		file("a/a_file.txt", "1"), file("a/keep.txt", "1"), file("a_root_file.txt", "1"),
		file("b/x.txt", "1"), file("b/c/y.txt", "1"), file("bb.txt", "1"),
	)
	t.Run("FileAndDir", func(t *testing.T) {
		// claircore's layer: a/.wh.a_file.txt, .wh.a_root_file.txt, .wh.b
		upper := fileLayer(t, filepath.Join(layers, "claircore-whiteout_advanced.layer"))
		got := txtReport(t, lower, upper)
		if want := []string{"a/keep.txt 1", "bb.txt 1"}; !slices.Equal(got, want) {
			t.Errorf("visible = %v, want %v", got, want)
		}
	})
	t.Run("Opaque", func(t *testing.T) {
		// claircore's layer: a/.wh..wh..opq, and b/not.a.wh..wh..opq,
		// which is only a file with a funny name.
		upper := fileLayer(t, filepath.Join(layers, "claircore-whiteout_opaque.layer"))
		got := txtReport(t, lower, upper)
		if want := []string{"a_root_file.txt 1", "b/c/y.txt 1", "b/x.txt 1", "bb.txt 1"}; !slices.Equal(got, want) {
			t.Errorf("visible = %v, want %v", got, want)
		}
		// An opaque directory hides only the layers below: what its own
		// layer puts in it shows, and so does what comes above.
		own := layerOf(t, file("a/.wh..wh..opq", ""), file("a/new.txt", "2"))
		above := layerOf(t, file("a/later.txt", "3"))
		got = txtReport(t, lower, own, above)
		if want := []string{"a/later.txt 3", "a/new.txt 2", "a_root_file.txt 1", "b/c/y.txt 1", "b/x.txt 1", "bb.txt 1"}; !slices.Equal(got, want) {
			t.Errorf("visible = %v, want %v", got, want)
		}
		root := layerOf(t, file(".wh..wh..opq", ""), file("z.txt", "4"))
		if got := txtReport(t, lower, root); !slices.Equal(got, []string{"z.txt 4"}) {
			t.Errorf("root opaque: visible = %v", got)
		}
	})
	t.Run("Replaced", func(t *testing.T) {
		upper := layerOf(t, file("a/keep.txt", "2"))
		got := txtReport(t, lower, upper)
		if want := []string{"a/a_file.txt 1", "a/keep.txt 2", "a_root_file.txt 1", "b/c/y.txt 1", "b/x.txt 1", "bb.txt 1"}; !slices.Equal(got, want) {
			t.Errorf("visible = %v, want %v", got, want)
		}
		// Deleted and re-added in the same layer: the new one shows.
		again := layerOf(t, file("b/.wh.x.txt", ""), file("b/x.txt", "3"))
		if got := txtReport(t, lower, again); !slices.Contains(got, "b/x.txt 3") {
			t.Errorf("visible = %v", got)
		}
	})
	t.Run("RealAlpine", func(t *testing.T) {
		// claircore's simple layer deletes etc/profile from the real
		// alpine rootfs beneath it.
		alpine := fileLayer(t, filepath.Join(layers, "alpine-minirootfs-3.18.9-x86_64.tar.gz"))
		wh := fileLayer(t, filepath.Join(layers, "claircore-whiteout.layer"))
		ps := &pathScanner{paths: []string{"etc/profile", "etc/alpine-release"}}
		r := index(t, &Indexer{Scanners: []scanner.Scanner{ps}}, imageOf(alpine))
		if got := pkgs(r); !slices.Equal(got, []string{"etc/alpine-release 7", "etc/profile 950"}) {
			t.Errorf("alpine alone: %v", got)
		}
		r = index(t, &Indexer{Scanners: []scanner.Scanner{ps}}, imageOf(alpine, wh))
		if got := pkgs(r); !slices.Equal(got, []string{"etc/alpine-release 7"}) {
			t.Errorf("alpine with etc/.wh.profile: %v", got)
		}
	})
}

// pathScanner reports the named files as packages whose version is the size.
type pathScanner struct{ paths []string }

func (*pathScanner) Name() string          { return "paths" }
func (*pathScanner) Version() string       { return "1" }
func (*pathScanner) Kind() scanner.Kind    { return scanner.KindPackage }
func (s *pathScanner) Wants(p string) bool { return slices.Contains(s.paths, p) }
func (s *pathScanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	n, err := io.Copy(io.Discard, f.R)
	if err != nil {
		return nil, err
	}
	if n != f.Size {
		return nil, errors.New("short read")
	}
	return &scanner.Result{Packages: []*vuln.Package{{Name: f.Path, Version: strconvItoa(n)}}}, nil
}

func strconvItoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestSymlinks(t *testing.T) {
	osrel := file("usr/lib/os-release", debianOSRelease)
	for _, tc := range []struct {
		name   string
		layers [][]ent
	}{
		{"Relative", [][]ent{{osrel}, {file("x", "")}, {symlink("etc/os-release", "../usr/lib/os-release")}}},
		{"Absolute", [][]ent{{osrel}, {symlink("etc/os-release", "/usr/lib/os-release")}}},
		{"Clamped", [][]ent{{osrel}, {symlink("etc/os-release", "../../../../usr/lib/os-release")}}},
		{"LinkReplacedByFile", [][]ent{{symlink("etc/os-release", "../usr/lib/os-release")}, {file("etc/os-release", debianOSRelease)}}},
		{"FileReplacedByLink", [][]ent{{file("etc/os-release", "ID=old\n")}, {osrel}, {symlink("etc/os-release", "../usr/lib/os-release")}}},
		{"Hardlink", [][]ent{{osrel, hardlink("etc/os-release", "usr/lib/os-release")}}},
		{"HardlinkTargetDeletedAbove", [][]ent{{osrel, hardlink("etc/os-release", "usr/lib/os-release")}, {file("usr/lib/.wh.os-release", "")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ls []*testLayer
			for _, es := range tc.layers {
				ls = append(ls, layerOf(t, es...))
			}
			osr := &osReleaseScanner{}
			r := index(t, &Indexer{Scanners: []scanner.Scanner{osr}}, imageOf(ls...))
			if len(r.Distributions) != 1 || r.Distributions["1"].DID != "debian" {
				t.Fatalf("distributions = %+v, warnings %v", r.Distributions, r.Warnings)
			}
			if !slices.Contains(osr.seen, "etc/os-release") {
				t.Errorf("Combine saw %v", osr.seen)
			}
		})
	}
	t.Run("LinkedStatusCountsOnce", func(t *testing.T) {
		// A package database visible at two paths is one database.
		ls := layerOf(t, file("var/lib/dpkg/status", statusA), symlink("var/lib/dpkg/status.txt", "status"))
		both := &bothScanner{}
		r := index(t, &Indexer{Scanners: []scanner.Scanner{both}}, imageOf(ls))
		if got := pkgs(r); len(got) != 2 {
			t.Errorf("packages = %v", got)
		}
	})
	t.Run("Dangling", func(t *testing.T) {
		ls := layerOf(t, symlink("etc/os-release", "../usr/lib/os-release"))
		r := index(t, &Indexer{Scanners: []scanner.Scanner{&osReleaseScanner{}}}, imageOf(ls))
		if len(r.Distributions) != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "etc/os-release: symlink to usr/lib/os-release") {
			t.Errorf("distributions %v, warnings %q", r.Distributions, r.Warnings)
		}
	})
	t.Run("ManyDanglingOneLine", func(t *testing.T) {
		// pnpm trees and "lib -> usr/lib" make many links to directories:
		// one warning line per scanner, not one per link.
		ls := layerOf(t, symlink("etc/os-release", "../usr/lib/os-release"), symlink("usr/lib/os-release", "../../opt/os-release"))
		r := index(t, &Indexer{Scanners: []scanner.Scanner{&osReleaseScanner{}}}, imageOf(ls))
		if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "2 symlinks") {
			t.Errorf("warnings %q", r.Warnings)
		}
	})
	t.Run("LinkDeletedAbove", func(t *testing.T) {
		l1 := layerOf(t, osrel, symlink("etc/os-release", "../usr/lib/os-release"))
		l2 := layerOf(t, file("etc/.wh.os-release", ""))
		osr := &osReleaseScanner{}
		index(t, &Indexer{Scanners: []scanner.Scanner{osr}}, imageOf(l1, l2))
		if !slices.Equal(osr.seen, []string{"usr/lib/os-release"}) {
			t.Errorf("Combine saw %v", osr.seen)
		}
	})
	t.Run("Loop", func(t *testing.T) {
		l1 := layerOf(t, symlink("usr/lib/os-release", "../../etc/os-release"))
		l2 := layerOf(t, symlink("etc/os-release", "../usr/lib/os-release"), file("var/lib/dpkg/status", statusA))
		// A loop is a warning naming the layer and path; the rest of
		// the image is indexed.
		r := index(t, &Indexer{Scanners: []scanner.Scanner{&osReleaseScanner{}, &dpkgScanner{}}}, imageOf(l1, l2))
		want := []string{
			"index: layer " + l2.Digest + ": etc/os-release: symlink loop (more than 40 links to follow); not indexed",
			"index: layer " + l1.Digest + ": usr/lib/os-release: symlink loop (more than 40 links to follow); not indexed",
		}
		if !slices.Equal(r.Warnings, want) {
			t.Errorf("warnings\n%q\nwant\n%q", r.Warnings, want)
		}
		if len(r.Packages) != 2 {
			t.Errorf("packages %v", pkgs(r))
		}
	})
}

// bothScanner wants the status file and a .txt link to it, like a scanner
// that reads a database wherever it is found.
type bothScanner struct{ dpkgScanner }

func (*bothScanner) Name() string { return "both" }
func (*bothScanner) Wants(p string) bool {
	return p == "var/lib/dpkg/status" || p == "var/lib/dpkg/status.txt"
}

func TestBadEntries(t *testing.T) {
	for _, tc := range []struct {
		ents []ent
		want string
	}{
		{[]ent{file("../../etc/passwd", "x")}, `entry "../../etc/passwd": path escapes the image root`},
		{[]ent{file("a/../../etc/passwd", "x")}, `entry "a/../../etc/passwd": path escapes the image root`},
		{[]ent{file("/etc/x", "x")}, `entry "/etc/x": absolute path`},
		{[]ent{file("etc/a", "x"), hardlink("etc/b", "../../x")}, `entry "etc/b": hardlink to "../../x": path escapes the image root`},
	} {
		l := layerOf(t, tc.ents...)
		_, err := (&Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(context.Background(), imageOf(l))
		if want := "index: layer " + l.Digest + ": " + tc.want; err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	}
}

func TestTruncatedLayer(t *testing.T) {
	blob := gz(t, tarOf(t, file("var/lib/dpkg/status", strings.Repeat(statusA+"\n", 2000)), file("etc/x", strings.Repeat("x", 100000))))
	good := layerOf(t, file("etc/motd", "hi"))
	bad := blobLayer(blob[:len(blob)/2])
	_, err := (&Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(context.Background(), imageOf(good, bad))
	if err == nil || !strings.HasPrefix(err.Error(), "index: layer "+bad.Digest+": ") || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("err = %v", err)
	}
	var le *image.LayerError
	if !errors.As(err, &le) || le.Digest != bad.Digest {
		t.Errorf("err does not carry the layer: %#v", err)
	}
	// Truncated in the gzip trailer: the tar reads whole, the gzip does not.
	trailer := blobLayer(blob[:len(blob)-4])
	_, err = (&Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(context.Background(), imageOf(trailer))
	if want := "index: layer " + trailer.Digest + ": gzip: unexpected EOF"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func TestCache(t *testing.T) {
	st := newMemStore()
	l1 := layerOf(t, file("var/lib/dpkg/status", statusA), file("usr/lib/os-release", debianOSRelease), symlink("etc/os-release", "../usr/lib/os-release"))
	l2 := layerOf(t, file("var/lib/dpkg/status", statusB), file("etc/.wh.os-release", ""))
	img := imageOf(l1, l2)
	dpkg, osr := &dpkgScanner{}, &osReleaseScanner{}
	ix := &Indexer{Store: st, Scanners: []scanner.Scanner{dpkg, osr}}
	cold := index(t, ix, img)
	if l1.opens.Load() != 1 || l2.opens.Load() != 1 {
		t.Fatalf("cold: opens %d %d", l1.opens.Load(), l2.opens.Load())
	}
	if st.puts.Load() != 6 { // 2 layers x (2 scanners + "layer")
		t.Errorf("cold: %d puts", st.puts.Load())
	}
	if dpkg.calls.Load() != 2 || osr.calls.Load() != 1 {
		t.Errorf("cold: scans %d %d", dpkg.calls.Load(), osr.calls.Load())
	}

	warm := index(t, ix, img)
	if l1.opens.Load() != 1 || l2.opens.Load() != 1 {
		t.Errorf("warm: layers read again: opens %d %d", l1.opens.Load(), l2.opens.Load())
	}
	if dpkg.calls.Load() != 2 || osr.calls.Load() != 1 || st.puts.Load() != 6 {
		t.Errorf("warm: scans %d %d, puts %d", dpkg.calls.Load(), osr.calls.Load(), st.puts.Load())
	}
	a, _ := json.Marshal(cold)
	b, _ := json.Marshal(warm)
	if string(a) != string(b) {
		t.Errorf("cached report differs:\n%s\n%s", a, b)
	}
	// The whiteout came from the cache too: only usr/lib/os-release shows.
	if !slices.Equal(osr.seen, []string{"usr/lib/os-release"}) {
		t.Errorf("Combine saw %v", osr.seen)
	}

	// A new scanner version reads each layer once more, for that scanner
	// only.
	dpkg2 := &dpkgScanner{version: "2"}
	osr2 := &osReleaseScanner{}
	index(t, &Indexer{Store: st, Scanners: []scanner.Scanner{dpkg2, osr2}}, img)
	if l1.opens.Load() != 2 || l2.opens.Load() != 2 {
		t.Errorf("new version: opens %d %d", l1.opens.Load(), l2.opens.Load())
	}
	if dpkg2.calls.Load() != 2 || osr2.calls.Load() != 0 {
		t.Errorf("new version: scans %d %d", dpkg2.calls.Load(), osr2.calls.Load())
	}
	if st.puts.Load() != 8 {
		t.Errorf("new version: %d puts", st.puts.Load())
	}

	// A record in a format this code does not know is a miss.
	for k := range st.m {
		if strings.HasPrefix(k, l1.Digest+"|osrelease|") {
			st.m[k] = []byte(`{"format":999}`)
		}
	}
	osr3 := &osReleaseScanner{}
	index(t, &Indexer{Store: st, Scanners: []scanner.Scanner{dpkg, osr3}}, img)
	if osr3.calls.Load() != 1 || l1.opens.Load() != 3 || l2.opens.Load() != 2 {
		t.Errorf("stale format: scans %d, opens %d %d", osr3.calls.Load(), l1.opens.Load(), l2.opens.Load())
	}

	t.Run("DirNeverCached", func(t *testing.T) {
		d := t.TempDir()
		os.MkdirAll(filepath.Join(d, "var/lib/dpkg"), 0o755)
		os.WriteFile(filepath.Join(d, "var/lib/dpkg/status"), []byte(statusA), 0o644)
		img, err := image.Open(context.Background(), "dir:"+d, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		st := newMemStore()
		dpkg := &dpkgScanner{}
		for range 2 {
			r := index(t, &Indexer{Store: st, Scanners: []scanner.Scanner{dpkg}}, img)
			if len(r.Packages) != 2 {
				t.Errorf("packages %v", pkgs(r))
			}
		}
		if st.gets.Load() != 0 || st.puts.Load() != 0 || dpkg.calls.Load() != 2 {
			t.Errorf("dir layer: %d gets, %d puts, %d scans", st.gets.Load(), st.puts.Load(), dpkg.calls.Load())
		}
	})
	t.Run("FailedLayerNotCached", func(t *testing.T) {
		st := newMemStore()
		blob := gz(t, tarOf(t, file("var/lib/dpkg/status", statusA)))
		bad := blobLayer(blob[:len(blob)-4])
		if _, err := (&Indexer{Store: st, Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(context.Background(), imageOf(bad)); err == nil {
			t.Fatal("no error")
		}
		if st.puts.Load() != 0 {
			t.Errorf("%d puts for a layer that failed", st.puts.Load())
		}
	})
}

func TestSharedFile(t *testing.T) {
	// Two scanners want the same file: each reads all of it.
	body := strings.Repeat(statusA+"\n", 500)
	l := layerOf(t, file("var/lib/dpkg/status", body), file("var/lib/dpkg/status.txt", "x"))
	a, b := &dpkgScanner{}, &bothScanner{}
	r := index(t, &Indexer{Scanners: []scanner.Scanner{a, b}}, imageOf(l))
	if a.calls.Load() != 1 || b.calls.Load() != 2 {
		t.Errorf("scans %d %d", a.calls.Load(), b.calls.Load())
	}
	if len(r.Packages) != 2 {
		t.Errorf("packages %v", pkgs(r))
	}
	// Past the bound on a kept file: a warning naming the layer and
	// the path, and the rest of the layer is indexed.
	r = index(t, &Indexer{Scanners: []scanner.Scanner{a, b}, Options: Options{MaxFileBytes: 1000}}, imageOf(l))
	want := "index: layer " + l.Digest + ": var/lib/dpkg/status: not scanned: " + limit.Bytes(int64(len(body))) + ", more than the 1000 B a file kept for its scanners may have (index option MaxFileBytes)"
	if !slices.Equal(r.Warnings, []string{want}) {
		t.Errorf("warnings %q, want %q", r.Warnings, want)
	}
	if len(r.Packages) != 0 {
		t.Errorf("packages %v", pkgs(r))
	}
}

func TestScannerError(t *testing.T) {
	l := layerOf(t, file("var/lib/dpkg/status", statusA))
	_, err := (&Indexer{Scanners: []scanner.Scanner{&failScanner{}}}).Index(context.Background(), imageOf(l))
	if want := "index: layer " + l.Digest + ": scanner fail: fail: var/lib/dpkg/status: bad"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if _, err := (&Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}, &dpkgScanner{}}}).Index(context.Background(), imageOf(l)); err == nil {
		t.Error("duplicate scanner names: no error")
	}
	if _, err := (&Indexer{Scanners: []scanner.Scanner{&layerNamed{}}}).Index(context.Background(), imageOf(l)); err == nil {
		t.Error(`scanner named "layer": no error`)
	}
}

type failScanner struct{ dpkgScanner }

func (*failScanner) Name() string { return "fail" }
func (*failScanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	return nil, errors.New("fail: " + f.Path + ": bad")
}

type layerNamed struct{ dpkgScanner }

func (*layerNamed) Name() string { return "layer" }

func TestParallel(t *testing.T) {
	var ls []*testLayer
	for i := range 12 {
		ls = append(ls, layerOf(t,
			file("var/lib/dpkg/status", statusA+"\nPackage: p"+strconvItoa(int64(i))+"\nVersion: 1\n"),
			file("etc/f"+strconvItoa(int64(i))+".txt", "v"),
			file("usr/lib/os-release", debianOSRelease),
		))
	}
	img := imageOf(ls...)
	var want []byte
	for _, n := range []int{1, 3, 0, 12} {
		st := newMemStore()
		r := index(t, &Indexer{Store: st, Concurrency: n, Scanners: []scanner.Scanner{&dpkgScanner{}, &txtScanner{}, &osReleaseScanner{}}}, img)
		b, _ := json.Marshal(r)
		if want == nil {
			want = b
			if len(r.Packages) != 3+12 {
				t.Errorf("packages %v", pkgs(r))
			}
			continue
		}
		if string(b) != string(want) {
			t.Errorf("concurrency %d: report differs", n)
		}
	}
}

// TestFailureCancels: one bad layer stops the others instead of letting
// them read on.
func TestFailureCancels(t *testing.T) {
	started := make(chan struct{})
	stuck := &testLayer{}
	stuck.Layer = image.NewLayer("sha256:stuck", "", 0, func(ctx context.Context) (io.ReadCloser, error) {
		close(started)
		return io.NopCloser(&blockingReader{ctx: ctx}), nil
	})
	blob := gz(t, tarOf(t, file("../x", "")))
	bad := blobLayer(blob)
	bad.Layer = image.NewLayer(bad.Digest, "", 0, func(ctx context.Context) (io.ReadCloser, error) {
		<-started
		return io.NopCloser(strings.NewReader(string(blob))), nil
	})
	done := make(chan error)
	go func() {
		_, err := (&Indexer{Concurrency: 2, Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(context.Background(), imageOf(stuck, bad))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "layer "+bad.Digest+": entry \"../x\"") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Index did not return after a layer failed")
	}
}

// blockingReader blocks until its context is done, like a stalled download.
type blockingReader struct{ ctx context.Context }

func (b *blockingReader) Read(p []byte) (int, error) {
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func TestAlpineLayer(t *testing.T) {
	p := sharedTestdata(t, "pkgdb", "layers", "alpine-minirootfs-3.18.9-x86_64.tar.gz")
	l := fileLayer(t, p)
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&apkScanner{}, &osReleaseScanner{}}}, imageOf(l))
	if len(r.Packages) != 15 {
		t.Errorf("%d packages: %v", len(r.Packages), pkgs(r))
	}
	musl, env := findPkg(t, r, "musl")
	if musl.PackageDB != "lib/apk/db/installed" || env.IntroducedIn != l.Digest || env.DistributionID != "1" || musl.Source == nil || musl.Source.Name != "musl" {
		t.Errorf("musl = %+v, env %+v", musl, env)
	}
	if d := r.Distributions["1"]; d == nil || d.DID != "alpine" || d.VersionID != "3.18.9" {
		t.Errorf("distribution = %+v", d)
	}
}

// TestRootfs builds images from the shared real root filesystems, as tar
// layers (split in two, the package database on top) and as dir: sources,
// and checks that both read the same.
func TestRootfs(t *testing.T) {
	base := sharedTestdata(t, "pkgdb", "rootfs")
	for _, tc := range []struct {
		name, did, version string
		pkgs               int
	}{
		{"debian-11-nginx", "debian", "11", 142},
		{"debian-12-python3.12-slim-langflow", "debian", "12", 140},
		{"ubuntu-20.04-base-industio", "ubuntu", "20.04", 327},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ents := rootfsEntries(t, filepath.Join(base, tc.name))
			var lower, upper []ent
			for _, e := range ents {
				if strings.HasPrefix(e.name, "var/") {
					upper = append(upper, e)
				} else {
					lower = append(lower, e)
				}
			}
			l1, l2 := layerOf(t, lower...), layerOf(t, upper...)
			scanners := func() []scanner.Scanner { return []scanner.Scanner{&dpkgScanner{}, &osReleaseScanner{}} }
			r := index(t, &Indexer{Scanners: scanners()}, imageOf(l1, l2))
			check := func(r *vuln.IndexReport, intro string) {
				t.Helper()
				if len(r.Packages) != tc.pkgs {
					t.Errorf("%d packages, want %d", len(r.Packages), tc.pkgs)
				}
				d := r.Distributions["1"]
				if len(r.Distributions) != 1 || d.DID != tc.did || d.VersionID != tc.version {
					t.Errorf("distributions = %+v (warnings %q)", r.Distributions, r.Warnings)
				}
				for id, envs := range r.Environments {
					if envs[0].IntroducedIn != intro || envs[0].DistributionID != "1" || envs[0].PackageDB != "var/lib/dpkg/status" {
						t.Errorf("package %s env %+v", id, envs[0])
						break
					}
				}
			}
			check(r, l2.Digest)

			// The same tree as a folder, with its symlink restored.
			root := t.TempDir()
			for _, e := range ents {
				p := filepath.Join(root, filepath.FromSlash(e.name))
				switch {
				case e.dir:
					os.MkdirAll(p, 0o755)
				case e.link != "":
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.Symlink(e.link, p); err != nil {
						t.Fatal(err)
					}
				default:
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, []byte(e.body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			img, err := image.Open(context.Background(), "dir:"+root, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			check(index(t, &Indexer{Scanners: scanners()}, img), "")
		})
	}
}

// TestDirEscape: a symlink in a dir: source that points outside the folder
// is resolved inside the image root, never on the host.
func TestDirEscape(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "os-release"), []byte("ID=host\n"), 0o644)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.MkdirAll(filepath.Join(root, "usr/lib"), 0o755)
	// Absolute: taken from the image root, where there is no such file.
	os.Symlink(filepath.Join(outside, "os-release"), filepath.Join(root, "etc/os-release"))
	// Relative, climbing out: clamped at the root.
	rel, _ := filepath.Rel(filepath.Join(root, "usr/lib"), filepath.Join(outside, "os-release"))
	os.Symlink(rel, filepath.Join(root, "usr/lib/os-release"))
	img, err := image.Open(context.Background(), "dir:"+root, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	osr := &osReleaseScanner{}
	r := index(t, &Indexer{Scanners: []scanner.Scanner{osr}}, img)
	if len(r.Distributions) != 0 || osr.calls.Load() != 0 {
		t.Errorf("read through a link out of the folder: %+v", r.Distributions)
	}
}

func TestReportShape(t *testing.T) {
	// An empty image still gives a report whose maps are present.
	r := index(t, &Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}, imageOf(layerOf(t, file("x", ""))))
	b, _ := json.Marshal(r)
	for _, k := range []string{`"packages":{}`, `"distributions":{}`, `"environments":{}`, `"repository":{}`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("%s missing from %s", k, b)
		}
	}
	if !reflect.DeepEqual(r.Layers, []string{r.Layers[0]}) {
		t.Errorf("layers %v", r.Layers)
	}
}
