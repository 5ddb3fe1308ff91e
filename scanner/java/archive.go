package java

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// walker holds what one layer file's scan found and may still spend.
type walker struct {
	ctx   context.Context
	s     *Scanner
	bytes int64 // decompressed bytes left
	// budget is the layer's (and image's) budget of inflated bytes,
	// charged with the same bytes as w.bytes.
	budget  *scanner.Budget
	entries int  // zip entries left
	spent   bool // a budget ran out: warned once, nothing more is opened
	dropped int  // warnings past maxWarnings
	pkgs    []*vuln.Package
	warns   []string
	// seen maps "group:artifact@version" to the indexes in pkgs of the
	// packages of those coordinates.
	seen map[string][]int
}

func (w *walker) warnf(p, format string, args ...any) {
	if len(w.warns) >= maxWarnings {
		w.dropped++
		return
	}
	w.warns = append(w.warns, fmt.Sprintf("java: %s: ", p)+fmt.Sprintf(format, args...))
}

// errBudget ends a read that would go past the decompression budget.
var errBudget = errors.New("decompression budget exhausted")

// archive scans one zip: its metadata, then its nested archives. disp is
// its path for reports ("app.war!WEB-INF/lib/a.jar"), name its file name.
// Only context errors are returned: a broken archive is a warning.
func (w *walker) archive(ra io.ReaderAt, size int64, disp, name string, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	zr, err := zip.NewReader(ra, size)
	if errors.Is(err, zip.ErrInsecurePath) {
		err = nil // names are only matched here, never used as paths
	}
	if err != nil {
		w.warnf(disp, "not a readable zip archive: %v", err)
		return nil
	}
	w.entries -= len(zr.File)
	if w.entries < 0 {
		w.exhausted(disp, "more than %d zip entries in all", w.s.maxEntries())
		return nil
	}

	var poms []props
	var manifest *zip.File
	var nested []*zip.File
	for _, zf := range zr.File {
		n := zf.Name
		switch {
		case strings.HasSuffix(n, "/"):
		case strings.HasPrefix(n, "META-INF/maven/") && path.Base(n) == "pom.properties":
			b, err := w.read(zf, maxPomProperties)
			if err != nil {
				w.readWarning(disp, n, err)
				continue
			}
			p := parsePomProperties(b)
			if p.group == "" {
				// META-INF/maven/<group>/<artifact>/pom.properties
				if parts := strings.Split(n, "/"); len(parts) == 5 {
					p.group = cleanValue(parts[2])
				}
			}
			if p.artifact == "" || p.version == "" {
				w.warnf(disp, "%s: no artifactId or version", n)
				continue
			}
			poms = append(poms, p)
		case strings.EqualFold(n, "META-INF/MANIFEST.MF"):
			manifest = zf
		case isArchive(n):
			nested = append(nested, zf)
		}
	}

	own := fileNameProps(name)
	var mf props
	if manifest != nil {
		b, err := w.read(manifest, maxManifest)
		if err != nil && !errors.Is(err, scanner.ErrTooLarge) {
			w.readWarning(disp, manifest.Name, err)
		} else {
			// A manifest cut at the bound still has its main section's
			// first headers, which are the ones kept.
			mf = parseManifest(b)
		}
	}
	for _, p := range poms {
		w.add(p, disp)
	}
	switch {
	case len(poms) == 0 && mf.valid():
		w.add(mf, disp)
	case len(poms) == 0 && own.valid():
		w.add(own, disp)
	case len(poms) > 0 && mf.valid() && mf.group != "" && !isOwn(poms, own) && !matches(poms, mf):
		// A shaded jar: its pom.properties describe what it absorbed.
		w.add(mf, disp)
	}

	for _, zf := range nested {
		if w.spent {
			return nil
		}
		child := disp + "!" + zf.Name
		if depth+1 > w.s.maxDepth() {
			w.warnf(child, "not scanned: archives nested more than %d deep", w.s.maxDepth())
			continue
		}
		if err := w.nested(ra, disp, zf, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// exhausted records that a budget ran out and stops every further read.
func (w *walker) exhausted(p, format string, args ...any) {
	if !w.spent {
		w.spent = true
		w.warnf(p, "stopped (zip bomb?): "+format+"; what was found so far is reported", args...)
	}
}

func (w *walker) readWarning(disp, name string, err error) {
	if errors.Is(err, errBudget) {
		w.exhausted(disp+"!"+name, "more than %d bytes decompressed in all", w.s.maxBytes())
		return
	}
	if errors.Is(err, scanner.ErrBudget) {
		w.exhausted(disp+"!"+name, "%v", err)
		return
	}
	w.warnf(disp, "%s: %v", name, err)
}

// nested scans an archive inside another. A stored entry is read in place;
// a compressed one is decompressed into memory or a temporary file.
func (w *walker) nested(parent io.ReaderAt, parentDisp string, zf *zip.File, depth int) error {
	disp := parentDisp + "!" + zf.Name
	name := path.Base(zf.Name)
	if zf.Method == zip.Store && zf.Flags&0x1 == 0 {
		off, err := zf.DataOffset()
		if err != nil {
			w.warnf(disp, "unreadable entry: %v", err)
			return nil
		}
		return w.archive(io.NewSectionReader(parent, off, int64(zf.CompressedSize64)), int64(zf.CompressedSize64), disp, name, depth)
	}
	if left := min(w.bytes, w.budget.Left()); zf.UncompressedSize64 > uint64(left) || !w.budget.Fits(int64(zf.UncompressedSize64)) {
		// Declared larger than what is left: skip it without inflating a
		// byte, so that the rest of the layer file is still read.
		w.warnf(disp, "not scanned (zip bomb?): decompresses to %d bytes, more than the %d left to decompress (in this file, layer and image)", zf.UncompressedSize64, left)
		return nil
	}
	rc, err := zf.Open()
	if err != nil {
		w.warnf(disp, "unreadable entry: %v", err)
		return nil
	}
	defer rc.Close()
	// The declared size may lie; archive/zip fails a read past it, and the
	// budget bounds it as well.
	r := &budgetReader{r: rc, w: w}
	if zf.UncompressedSize64 <= MaxInMemory {
		// Sized by the declaration, which is at most MaxInMemory here.
		buf := bytes.NewBuffer(make([]byte, 0, zf.UncompressedSize64+bytes.MinRead))
		if _, err := buf.ReadFrom(limit.Reader(r, MaxInMemory)); err != nil {
			w.readWarning(parentDisp, zf.Name, err)
			return nil
		}
		return w.archive(bytes.NewReader(buf.Bytes()), int64(buf.Len()), disp, name, depth)
	}
	tmp, n, err := spill(r)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return err // our disk, not the archive
		}
		w.readWarning(parentDisp, zf.Name, err)
		return nil
	}
	defer release(tmp)
	return w.archive(tmp, n, disp, name, depth)
}

// read returns one entry's content, at most max bytes of it.
func (w *walker) read(zf *zip.File, max int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(scanner.LimitReader(&budgetReader{r: rc, w: w}, max))
	if errors.Is(err, scanner.ErrTooLarge) {
		return b, fmt.Errorf("more than %d bytes: %w", max, err)
	}
	return b, err
}

// budgetReader charges what it reads to the walker's byte budget.
type budgetReader struct {
	r io.Reader
	w *walker
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.w.bytes <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > b.w.bytes {
		p = p[:b.w.bytes]
	}
	n, err := b.r.Read(p)
	b.w.bytes -= int64(n)
	if berr := b.w.budget.Take(int64(n)); berr != nil {
		return 0, berr
	}
	return n, err
}

// add reports an artifact found in the archive at disp, unless the same
// coordinates were already found in an archive that contains this one or
// that this one contains: a fat jar's META-INF/maven may describe a jar it
// also nests. The deeper path, the jar itself, is kept.
func (w *walker) add(p props, disp string) {
	key := p.group + ":" + p.artifact + "@" + p.version
	for _, i := range w.seen[key] {
		q := w.pkgs[i]
		switch {
		case strings.HasPrefix(disp, q.Path+"!"):
			q.Path, q.PackageDB = disp, "maven:"+disp
			return
		case disp == q.Path || strings.HasPrefix(q.Path, disp+"!"):
			return
		}
	}
	name := p.artifact
	if p.group != "" {
		name = p.group + ":" + p.artifact
	}
	w.seen[key] = append(w.seen[key], len(w.pkgs))
	w.pkgs = append(w.pkgs, &vuln.Package{
		Name:      name,
		Version:   p.version,
		Kind:      vuln.KindBinary,
		Ecosystem: Ecosystem,
		Purl:      Purl(p.group, p.artifact, p.version),
		Path:      disp,
		PackageDB: "maven:" + disp,
	})
}
