package index

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/gobin"
	"github.com/openclair/clair/scanner/rust"
)

// FuzzTarLayer feeds arbitrary bytes to the indexer as a layer: a tar (or
// a compressed one, by its magic) from an untrusted source. Errors are
// fine; panics and hangs are not. The corpus in testdata/fuzz/FuzzTarLayer
// holds claircore's whiteout layers and small tars with links, whiteouts
// and escaping names.
func FuzzTarLayer(f *testing.F) {
	f.Add(tarOf(f, file("var/lib/dpkg/status", statusA), symlink("etc/os-release", "../usr/lib/os-release"), file("usr/lib/os-release", debianOSRelease)))
	f.Add(tarOf(f, file("a/.wh..wh..opq", ""), file("a/.wh.b.txt", ""), file("a/c.txt", "1"), hardlink("a/d.txt", "a/c.txt")))
	f.Add(tarOf(f, symlink("etc/os-release", "/usr/lib/os-release"), symlink("usr/lib/os-release", "../../etc/os-release")))
	f.Add(gz(f, tarOf(f, file("./x.txt", "1"), file("../y.txt", "2"))))
	// Files the executable scanners sniff, keep and spool (MemFileBytes
	// is tiny below), and a link loop through them.
	f.Add(tarOf(f, file("bin/x", "\x7fELF\x02\x01\x01"+strings.Repeat("\x00", 200)), file("usr/bin/y", strings.Repeat("\x00", 600)), symlink("bin/z", "z")))
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		l := image.NewLayer("sha256:fuzz", "", int64(len(data)), func(ctx context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		ix := &Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}, &osReleaseScanner{}, &txtScanner{}, &gobin.Scanner{}, &rust.Scanner{}}, Concurrency: 1,
			Options: Options{MemFileBytes: 64, MaxLayerBytes: 1 << 20, MaxLayerPackages: 5, TempDir: tmp}}
		// Twice, as two layers, so that whiteouts and links cross layers.
		r, err := ix.Index(context.Background(), &image.Image{Layers: []*image.Layer{l, l}})
		if err == nil && r == nil {
			t.Fatal("nil report without an error")
		}
	})
}
