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
	"slices"
	"sort"
	"strings"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
)

// recordFormat versions the cached encodings below: a change to what they
// mean (not only to a scanner) must not reuse records written before it.
const recordFormat = 2

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
	// Dirs are the targets of Links that are directories of the layer:
	// such a link leads to no file, and is no dangling link either.
	Dirs []string `json:"dirs,omitempty"`
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

// walker reads the entries of one layer, in order, and records what the
// scanners found and what the layer hides.
type walker struct {
	scanners  []scanner.Scanner
	recs      []*scanRecord // parallel to scanners
	whiteouts map[string]struct{}
	opaque    map[string]struct{}
	// dirs are the directories of the layer, explicit or implied by an
	// entry's path: a wanted link to one is no dangling link.
	dirs     map[string]struct{}
	dirBytes int

	layer  string // the layer's name, for warnings
	opts   Options
	budget *scanner.Budget // bytes the layer may spool or inflate
	pkgs   int             // packages found so far
	full   bool            // the package limit was reached
	// records counts what recs hold (files and links, per scanner), up
	// to Options.MaxLayerFiles; tooMany says the bound was reached.
	records int
	tooMany bool

	want []int  // scratch: the scanners wanting the current entry
	keep []int  // scratch: those of want that the first bytes interest
	head []byte // scratch: the first bytes of the current entry
	buf  []byte // scratch: a small file kept for several scanners
}

func newWalker(scanners []scanner.Scanner, layer string, opts Options, budget *scanner.Budget) *walker {
	w := &walker{
		scanners:  scanners,
		recs:      make([]*scanRecord, len(scanners)),
		whiteouts: map[string]struct{}{},
		opaque:    map[string]struct{}{},
		dirs:      map[string]struct{}{},
		layer:     layer,
		opts:      opts,
		budget:    budget,
		head:      make([]byte, scanner.SniffLen),
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

// maxDirBytes bounds the path bytes of the directories a walker records,
// whatever the layer's number of directories: past it, a link to an
// unrecorded directory is only reported as dangling.
const maxDirBytes = 16 << 20

// dir records p and the directories above it.
func (w *walker) dir(p string) {
	for ; p != "." && p != "" && p != "/"; p = path.Dir(p) {
		if _, ok := w.dirs[p]; ok {
			return
		}
		if w.dirBytes += len(p); w.dirBytes > maxDirBytes {
			return
		}
		w.dirs[p] = struct{}{}
	}
}

// finish marks the links whose targets are directories of the layer.
func (w *walker) finish() {
	for _, rec := range w.recs {
		for _, t := range rec.Links {
			if _, ok := w.dirs[t]; ok && !slices.Contains(rec.Dirs, t) {
				rec.Dirs = append(rec.Dirs, t)
			}
		}
		sort.Strings(rec.Dirs)
	}
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

// onlyReaderAt hides a kept file's other methods (Write, Seek, Name).
type onlyReaderAt struct{ r io.ReaderAt }

func (o onlyReaderAt) ReadAt(p []byte, off int64) (int, error) { return o.r.ReadAt(p, off) }

func (w *walker) randomAccess(i int) bool {
	_, ok := w.scanners[i].(scanner.RandomAccess)
	return ok
}

// warnf records, for the scanners in want, a result that is only a warning
// naming the layer: the file still replaces the same path below.
func (w *walker) warnf(want []int, p, format string, args ...any) {
	msg := fmt.Sprintf("index: layer %s: %s: ", w.layer, p) + fmt.Sprintf(format, args...)
	for _, i := range want {
		w.recs[i].Files[p] = &scanner.Result{Warnings: []string{msg}}
	}
}

// scanFile hands a wanted regular file to the scanners in want, reading it
// once whatever their number:
//   - its first bytes go to the scanners that sniff (executable scanners),
//     and those that see nothing for them in it are done;
//   - a file that one scanner reads as a stream is streamed to it;
//   - otherwise the file is kept, in memory if small and spooled to one
//     temporary file if not, within the file and layer bounds of Options,
//     and each scanner reads it from there (File.RA for those reading at
//     offsets).
//
// ra, when not nil, already reads the file at offsets (a folder's file).
func (w *walker) scanFile(ctx context.Context, p string, size int64, mode fs.FileMode, r io.Reader, ra io.ReaderAt, want []int) error {
	if size < 0 {
		return entryError(p, fmt.Errorf("negative size %d", size))
	}
	if want = w.underFileLimit(p, want); len(want) == 0 {
		return nil
	}
	want = w.underPackageLimit(p, want)
	if len(want) == 0 {
		return nil
	}
	streamable := len(want) == 1 && ra == nil && !w.randomAccess(want[0])
	if _, sniffs := w.scanners[want[0]].(scanner.Sniffer); streamable && !sniffs {
		return w.scan(ctx, p, want[0], scanner.File{Path: p, Size: size, Mode: mode, R: onlyReader{r}})
	}

	head := w.head[:min(size, int64(len(w.head)))]
	var (
		n   int
		err error
	)
	if ra != nil {
		n, err = ra.ReadAt(head, 0)
	} else {
		n, err = io.ReadFull(r, head)
	}
	if err != nil && n < len(head) {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return entryError(p, err)
	}
	keep := w.keep[:0]
	for _, i := range want {
		if sn, ok := w.scanners[i].(scanner.Sniffer); ok && !sn.Sniff(p, head) {
			// Nothing for it, but the file still replaces the path.
			w.recs[i].Files[p] = nothing
			continue
		}
		keep = append(keep, i)
	}
	w.keep = keep
	if len(keep) == 0 {
		return nil
	}

	var src io.ReaderAt
	switch {
	case ra != nil:
		src = ra
	case size == int64(len(head)):
		src = bytes.NewReader(head)
	case len(keep) == 1 && !w.randomAccess(keep[0]):
		rest := io.MultiReader(bytes.NewReader(head), r)
		return w.scan(ctx, p, keep[0], scanner.File{Path: p, Size: size, Mode: mode, R: onlyReader{rest}})
	case size > w.opts.maxFileBytes():
		w.warnf(keep, p, "not scanned: %s, more than the %s a file kept for its scanners may have (index option MaxFileBytes)", limit.Bytes(size), limit.Bytes(w.opts.maxFileBytes()))
		return nil
	case size <= w.opts.memFileBytes():
		// Small enough to trust the header: one allocation at most, and
		// the buffer is reused for the next file.
		if int64(cap(w.buf)) < size {
			w.buf = make([]byte, size, max(size, 64<<10))
		}
		w.buf = w.buf[:size]
		n := copy(w.buf, head)
		if _, err := io.ReadFull(r, w.buf[n:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return entryError(p, err)
		}
		src = bytes.NewReader(w.buf)
	default:
		if err := w.budget.Take(size); err != nil {
			w.warnf(keep, p, "not scanned: %s to spool to disk, %v (index options MaxLayerBytes, MaxImageBytes)", limit.Bytes(size), err)
			return nil
		}
		tmp, err := w.spool(p, size, head, r)
		if err != nil {
			return err
		}
		defer func() {
			tmp.Close()
			os.Remove(tmp.Name())
		}()
		src = tmp
	}
	for _, i := range keep {
		f := scanner.File{Path: p, Size: size, Mode: mode, R: onlyReader{io.NewSectionReader(src, 0, size)}, RA: onlyReaderAt{src}}
		if err := w.scan(ctx, p, i, f); err != nil {
			return err
		}
	}
	// Do not pin a large buffer for the rest of the layer.
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
	return nil
}

// spool copies the file (head, then the rest of r) to a temporary file.
func (w *walker) spool(p string, size int64, head []byte, r io.Reader) (*os.File, error) {
	tmp, err := os.CreateTemp(w.opts.TempDir, "clair-index-*")
	if err != nil {
		return nil, fmt.Errorf("spooling %s: %w", p, err)
	}
	fail := func(err error) (*os.File, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	if _, err := tmp.Write(head); err != nil {
		return fail(fmt.Errorf("spooling %s: %w", p, err))
	}
	n, err := io.Copy(tmp, io.LimitReader(r, size-int64(len(head))))
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return fail(fmt.Errorf("spooling %s: %w", p, err)) // our disk
	case err != nil:
		return fail(entryError(p, err))
	case n != size-int64(len(head)):
		return fail(entryError(p, io.ErrUnexpectedEOF))
	}
	return tmp, nil
}

// nothing is the result of a file that told a scanner nothing: one value
// for them all, since a layer may hold a great many (every extension-less
// file is a candidate executable).
var nothing = &scanner.Result{}

// underFileLimit returns want, or nothing once the layer's records reached
// Options.MaxLayerFiles: a layer of a million tiny files in bin/ costs that
// bound, not a record each. The first path past it gets the warning.
func (w *walker) underFileLimit(p string, want []int) []int {
	if w.tooMany {
		return nil
	}
	w.records += len(want)
	if max := w.opts.maxLayerFiles(); w.records > max {
		w.tooMany = true
		w.warnf(want, p, "not scanned, nor any wanted file after it: more than %d files wanted by the scanners in the layer (index option MaxLayerFiles)", max)
		return nil
	}
	return want
}

// underPackageLimit returns the scanners of want that may still be asked:
// once the layer's package limit is reached, package scanners are not.
func (w *walker) underPackageLimit(p string, want []int) []int {
	if !w.full {
		return want
	}
	out := want[:0]
	var skipped []int
	for _, i := range want {
		if w.scanners[i].Kind() == scanner.KindPackage {
			skipped = append(skipped, i)
			continue
		}
		out = append(out, i)
	}
	if len(skipped) > 0 {
		msg := fmt.Sprintf("index: layer %s: more than %d packages (index option MaxLayerPackages): files after that not scanned", w.layer, w.opts.maxLayerPackages())
		for _, i := range skipped {
			w.recs[i].Files[p] = &scanner.Result{Warnings: []string{msg}}
		}
	}
	return out
}

// scan runs scanner i on f and records its result, cut to the layer's
// package limit.
func (w *walker) scan(ctx context.Context, p string, i int, f scanner.File) error {
	s := w.scanners[i]
	maxPkgs := w.opts.maxLayerPackages()
	f.Budget = w.budget
	if maxPkgs < unbounded {
		f.MaxPackages = max(maxPkgs-w.pkgs, 1)
	}
	res, err := s.Scan(ctx, f)
	if err != nil {
		return fmt.Errorf("scanner %s: %w", s.Name(), err)
	}
	if res == nil {
		// The file is there even if it said nothing: it still replaces
		// the same path in lower layers.
		res = nothing
	}
	if left := maxPkgs - w.pkgs; len(res.Packages) > left {
		res.Warnings = append(res.Warnings, fmt.Sprintf("index: layer %s: %s: more than %d packages in the layer (index option MaxLayerPackages): %d of this file's not indexed", w.layer, p, maxPkgs, len(res.Packages)-left))
		res.Packages = res.Packages[:left:left]
	}
	w.pkgs += len(res.Packages)
	if w.pkgs >= maxPkgs {
		w.full = true
	}
	w.recs[i].Files[p] = res
	return nil
}

// link records a symlink or hardlink at a wanted path. A hardlink to a file
// this layer already scanned for the same scanner shares its result: the
// content is the same file whatever happens to the target's path above.
func (w *walker) link(p, target string, hard bool, want []int) {
	for _, i := range w.underFileLimit(p, want) {
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
	w.dir(path.Dir(p))
	switch h.Typeflag {
	case tar.TypeDir:
		w.dir(p)
	case tar.TypeReg, tar.TypeGNUSparse:
		if want := w.wanting(p); len(want) > 0 {
			return w.scanFile(ctx, p, h.Size, h.FileInfo().Mode(), tr, nil, want)
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
		if p == "" || w.whiteout(p) {
			return nil
		}
		if d.IsDir() {
			w.dir(p)
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
	return w.scanFile(ctx, p, st.Size(), st.Mode(), io.LimitReader(f, st.Size()), f, want)
}
