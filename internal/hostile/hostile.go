// Package hostile builds the layers of issue 11's attacks on the indexer,
// streamed from generators so that a 500 MiB file costs its gzip, not its
// size: huge files of zeros, an executable header on zeros, nested zip
// bombs, an apk database of a million records, symlink loops. Tests and
// tools/boundsprobe use the same builders.
package hostile

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Entry is one member of a layer: a regular file of Size bytes read from
// Body, or a symlink to Link.
type Entry struct {
	Name string
	Size int64
	Body func() io.Reader
	Link string
	Dir  bool
}

var epoch = time.Unix(1700000000, 0)

// Zeros is a file of n zero bytes.
func Zeros(name string, n int64) Entry {
	return Entry{Name: name, Size: n, Body: func() io.Reader { return io.LimitReader(zeros{}, n) }}
}

// ELFZeros is n bytes that start like a 64-bit ELF executable and are zeros
// after: every executable scanner wants to look at it.
func ELFZeros(name string, n int64) Entry {
	head := []byte("\x7fELF\x02\x01\x01")
	return Entry{Name: name, Size: n, Body: func() io.Reader {
		return io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, n-int64(len(head))))
	}}
}

// Bytes is a file holding b.
func Bytes(name string, b []byte) Entry {
	return Entry{Name: name, Size: int64(len(b)), Body: func() io.Reader { return bytes.NewReader(b) }}
}

// Symlink is a symlink at name to target.
func Symlink(name, target string) Entry { return Entry{Name: name, Link: target} }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Layer writes the gzip-compressed tar of the entries to w.
func Layer(w io.Writer, ents ...Entry) error {
	_, err := layer(w, ents)
	return err
}

// layer writes the layer and returns its diff id.
func layer(w io.Writer, ents []Entry) (string, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return "", err
	}
	diff := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, diff))
	for _, e := range ents {
		h := &tar.Header{Name: e.Name, Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeReg, Size: e.Size, Format: tar.FormatPAX}
		if e.Link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Link, 0
		}
		if e.Dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return "", fmt.Errorf("hostile: %s: %w", e.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, e.Body()); err != nil {
				return "", fmt.Errorf("hostile: %s: %w", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(diff.Sum(nil)), zw.Close()
}

// LayerBytes is Layer into memory.
func LayerBytes(ents ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	if err := Layer(&buf, ents...); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NestedBomb is a jar holding, deflated, "b.jar": n zero bytes deflated
// (not a zip at all, but a Java scanner must inflate it to find out). Two
// levels of deflate make n = 1e9 about 3 KB.
func NestedBomb(n int64) ([]byte, error) {
	inner, err := zipOf("b.jar", io.LimitReader(zeros{}, n))
	if err != nil {
		return nil, err
	}
	return zipOf("b.jar.jar", bytes.NewReader(inner))
}

// zipOf is a zip archive of one deflated entry.
func zipOf(name string, r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: epoch})
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// apkRecord is one fixed-width record of ApkInstalled.
const apkRecord = "P:pkg%07d\nV:1.0.%07d-r0\nA:x86_64\no:pkg%07d\nT:a package\nF:usr/lib\nR:libpkg%07d.so\nZ:Q1pB5VMdZ5LqXCSmq1ZXMvcyUtWjM=\n\n"

// ApkInstalled is an apk installed database of n records, generated as it
// is read.
func ApkInstalled(n int) Entry {
	rec := int64(len(fmt.Sprintf(apkRecord, 0, 0, 0, 0)))
	return Entry{Name: "lib/apk/db/installed", Size: rec * int64(n), Body: func() io.Reader {
		return &apkGen{n: n}
	}}
}

type apkGen struct {
	i, n int
	buf  []byte
}

func (g *apkGen) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i < g.n {
		g.buf = fmt.Appendf(g.buf, apkRecord, g.i, g.i, g.i, g.i)
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}
