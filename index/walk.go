package index

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/openclair/clair/scanner"
)

// recordFormat versions the cached encodings below: a change to what they
// mean (not only to a scanner) must not reuse records written before it.
const recordFormat = 1

// layerScanner is the pseudo-scanner name under which a layer's whiteouts
// and opaque directories are cached; layerScannerVersion moves with what the
// walker records about them.
const (
	layerScanner        = "layer"
	layerScannerVersion = "1"
)

// scanRecord is what one scanner found in one layer, as cached.
type scanRecord struct {
	Format int `json:"format"`
	// Files are the results of the wanted regular files, by path.
	Files map[string]*scanner.Result `json:"files,omitempty"`
	// Links are the wanted paths that are symlinks or hardlinks, to their
	// target as a clean root-relative path.
	Links map[string]string `json:"links,omitempty"`
}

// layerRecord is what a layer hides of the layers below it, as cached.
type layerRecord struct {
	Format int `json:"format"`
	// Whiteouts are deleted paths (and everything under them).
	Whiteouts []string `json:"whiteouts,omitempty"`
	// Opaque are directories whose lower content is hidden; "." is the root.
	Opaque []string `json:"opaque,omitempty"`
}

func decodeScanRecord(b []byte) (*scanRecord, bool) {
	var r scanRecord
	if err := json.Unmarshal(b, &r); err != nil || r.Format != recordFormat {
		return nil, false
	}
	return &r, true
}

func decodeLayerRecord(b []byte) (*layerRecord, bool) {
	var r layerRecord
	if err := json.Unmarshal(b, &r); err != nil || r.Format != recordFormat {
		return nil, false
	}
	return &r, true
}

// maxSharedFile bounds a wanted file that several scanners want: it is read
// into memory once and handed to each. Such files are package databases of
// a few MiB at most; the bound only stops a hostile layer. A variable so
// that tests can lower it.
var maxSharedFile int64 = 512 << 20

// walker reads the entries of one layer, in order, and records what the
// scanners found and what the layer hides.
type walker struct {
	scanners  []scanner.Scanner
	recs      []*scanRecord // parallel to scanners
	whiteouts map[string]struct{}
	opaque    map[string]struct{}
	want      []int  // scratch: the scanners wanting the current entry
	buf       []byte // scratch: a file shared by several scanners
}

func newWalker(scanners []scanner.Scanner) *walker {
	w := &walker{
		scanners:  scanners,
		recs:      make([]*scanRecord, len(scanners)),
		whiteouts: map[string]struct{}{},
		opaque:    map[string]struct{}{},
	}
	for i := range w.recs {
		w.recs[i] = &scanRecord{Format: recordFormat, Files: map[string]*scanner.Result{}, Links: map[string]string{}}
	}
	return w
}

func (w *walker) layerRecord() *layerRecord {
	r := &layerRecord{Format: recordFormat}
	for p := range w.whiteouts {
		r.Whiteouts = append(r.Whiteouts, p)
	}
	for p := range w.opaque {
		r.Opaque = append(r.Opaque, p)
	}
	sort.Strings(r.Whiteouts)
	sort.Strings(r.Opaque)
	return r
}

// Entry path problems. They fail the layer: a layer that names files outside
// the image root was not made by any honest builder.
var (
	errAbsolute = errors.New("absolute path")
	errEscapes  = errors.New("path escapes the image root")
)

// cleanPath makes an entry name root-relative and clean ("./etc/x" ->
// "etc/x"); "" means the root itself.
func cleanPath(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", errAbsolute
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errEscapes
	}
	if c == "." {
		return "", nil
	}
	return c, nil
}

// resolveLink turns a symlink's target into a clean root-relative path: a
// relative target is taken from the link's directory, an absolute one from
// the image root, and ".." never climbs above the root, as in a chroot.
func resolveLink(linkPath, target string) string {
	var p string
	if strings.HasPrefix(target, "/") {
		p = path.Clean(target)
	} else {
		p = path.Clean("/" + path.Join(path.Dir(linkPath), target))
	}
	return strings.TrimPrefix(p, "/")
}

// entryError names the entry; the caller names the layer.
func entryError(name string, err error) error {
	return fmt.Errorf("entry %q: %w", name, err)
}

// whiteout records a whiteout entry and reports whether p was one. Such
// entries are markers, never files to scan.
func (w *walker) whiteout(p string) bool {
	dir, base := path.Split(p)
	name, ok := strings.CutPrefix(base, ".wh.")
	if !ok {
		return false
	}
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	switch {
	case name == ".wh..opq":
		w.opaque[dir] = struct{}{}
	case strings.HasPrefix(name, ".wh."):
		// Other aufs metadata (.wh..wh.plnk, .wh..wh.aufs): no effect.
	case name == "" || name == "." || name == "..":
		// Names nothing; ignored rather than allowed to climb.
	default:
		w.whiteouts[path.Join(dir, name)] = struct{}{}
	}
	return true
}

// forget drops what an earlier entry of this layer at p recorded: a later
// entry with the same path replaces it.
func (w *walker) forget(p string) {
	for _, r := range w.recs {
		if len(r.Files) > 0 {
			delete(r.Files, p)
		}
		if len(r.Links) > 0 {
			delete(r.Links, p)
		}
	}
}

// wanting fills w.want with the scanners that want p.
func (w *walker) wanting(p string) []int {
	w.want = w.want[:0]
	for i, s := range w.scanners {
		if s.Wants(p) {
			w.want = append(w.want, i)
		}
	}
	return w.want
}

// onlyReader hides the tar reader behind the entry's content, so that a
// scanner cannot reach other entries through a type assertion.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// scanFile hands a wanted regular file to the scanners in want. One scanner
// reads the stream itself; several get a copy read once into memory, since a
// scanner may stop reading early and they cannot all share one stream.
// presize is the largest shared file whose buffer is sized from the tar
// header up front rather than grown as the bytes arrive.
const presize = 16 << 20

func (w *walker) scanFile(ctx context.Context, p string, size int64, mode fs.FileMode, r io.Reader, want []int) error {
	var shared []byte
	if len(want) > 1 {
		if size > maxSharedFile || size < 0 {
			return entryError(p, fmt.Errorf("%d bytes, wanted by %d scanners: over the %d MiB limit for a file read by several scanners", size, len(want), maxSharedFile>>20))
		}
		if size <= presize {
			// Small enough to trust the header: one allocation at most,
			// and the buffer is reused for the next file.
			if int64(cap(w.buf)) < size {
				w.buf = make([]byte, size, max(size, 64<<10))
			}
			w.buf = w.buf[:size]
			if _, err := io.ReadFull(r, w.buf); err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return entryError(p, err)
			}
		} else {
			// Grown as the data arrives, not to the size the header
			// claims: a hostile header costs nothing until its bytes
			// are there.
			b := bytes.NewBuffer(w.buf[:0])
			n, err := b.ReadFrom(io.LimitReader(r, size))
			if err == nil && n != size {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return entryError(p, err)
			}
			w.buf = b.Bytes()
		}
		shared = w.buf
	}
	for _, i := range want {
		s := w.scanners[i]
		f := scanner.File{Path: p, Size: size, Mode: mode, R: onlyReader{r}}
		if shared != nil {
			f.R = &sliceReader{b: shared}
		}
		res, err := s.Scan(ctx, f)
		if err != nil {
			return fmt.Errorf("scanner %s: %w", s.Name(), err)
		}
		if res == nil {
			// The file is there even if it said nothing: it still
			// replaces the same path in lower layers.
			res = &scanner.Result{}
		}
		w.recs[i].Files[p] = res
	}
	// Do not pin a large buffer for the rest of the layer.
	if cap(w.buf) > 16<<20 {
		w.buf = nil
	}
	return nil
}

// sliceReader is bytes.Reader without the methods (WriteTo, Seek) that
// would let a scanner see more than a stream.
type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// link records a symlink or hardlink at a wanted path. A hardlink to a file
// this layer already scanned for the same scanner shares its result: the
// content is the same file whatever happens to the target's path above.
func (w *walker) link(p, target string, hard bool, want []int) {
	for _, i := range want {
		rec := w.recs[i]
		if hard {
			if res, ok := rec.Files[target]; ok {
				rec.Files[p] = res
				continue
			}
		}
		rec.Links[p] = target
	}
}

// walkTar reads one layer's tar stream to its end.
func walkTar(ctx context.Context, r io.Reader, w *walker) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := w.tarEntry(ctx, tr, h); err != nil {
			return err
		}
	}
	// Past the end-of-archive marker: read on so that the decompressor
	// checks its trailer and the blob its digest, before anything is cached.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return nil
}

func (w *walker) tarEntry(ctx context.Context, tr *tar.Reader, h *tar.Header) error {
	if h.Typeflag == tar.TypeXGlobalHeader {
		// PAX global metadata (git archive writes one): not a file.
		return nil
	}
	p, err := cleanPath(h.Name)
	if err != nil {
		return entryError(h.Name, err)
	}
	if p == "" {
		return nil
	}
	if w.whiteout(p) {
		return nil
	}
	w.forget(p)
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		if want := w.wanting(p); len(want) > 0 {
			return w.scanFile(ctx, p, h.Size, h.FileInfo().Mode(), tr, want)
		}
	case tar.TypeSymlink:
		if want := w.wanting(p); len(want) > 0 {
			w.link(p, resolveLink(p, h.Linkname), false, want)
		}
	case tar.TypeLink:
		// A hardlink names another member of the archive, so one that
		// climbs out is as malformed as an entry that does.
		t, err := cleanPath(strings.TrimLeft(h.Linkname, "/"))
		if err != nil || t == "" {
			return entryError(h.Name, fmt.Errorf("hardlink to %q: %w", h.Linkname, errEscapes))
		}
		if want := w.wanting(p); len(want) > 0 {
			w.link(p, t, true, want)
		}
	}
	return nil
}

// walkDir reads a root filesystem folder as one layer. It goes through
// os.Root, so that no symlink in the folder (or swapped in while we walk)
// makes it read anything outside; symlinks are recorded, never followed.
func walkDir(ctx context.Context, dir string, w *walker) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := cleanPath(name)
		if err != nil {
			return entryError(name, err)
		}
		if p == "" || d.IsDir() || w.whiteout(p) {
			return nil
		}
		switch t := d.Type(); {
		case t.IsRegular():
			want := w.wanting(p)
			if len(want) == 0 {
				return nil
			}
			return w.scanDirFile(ctx, root, p, want)
		case t&fs.ModeSymlink != 0:
			want := w.wanting(p)
			if len(want) == 0 {
				return nil
			}
			target, err := root.Readlink(p)
			if err != nil {
				return entryError(p, err)
			}
			w.link(p, resolveLink(p, target), false, want)
		}
		return nil
	})
}

func (w *walker) scanDirFile(ctx context.Context, root *os.Root, p string, want []int) error {
	f, err := root.Open(p)
	if err != nil {
		return entryError(p, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return entryError(p, err)
	}
	if !st.Mode().IsRegular() {
		return nil // replaced since the walk listed it
	}
	// The file may grow while we read; the scanners see what Stat said.
	return w.scanFile(ctx, p, st.Size(), st.Mode(), io.LimitReader(f, st.Size()), want)
}
