package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// blobSource is where an archive or layout keeps its files: an indexed tar
// or a folder.
type blobSource interface {
	// open returns the file at the clean slash-separated path name.
	open(ctx context.Context, name string) (io.ReadCloser, int64, error)
}

// readSmall reads a whole metadata file (manifest, config, index), refusing
// one larger than max: archives are untrusted input.
func readSmall(ctx context.Context, src blobSource, name string, max int64) ([]byte, error) {
	rc, size, err := src.open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a metadata file may have", name, size, max)
	}
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: more than the %d bytes a metadata file may have", name, max)
	}
	return b, nil
}

// Metadata files are small; these bounds only stop a hostile archive.
const (
	maxManifestSize = 16 << 20
	maxConfigSize   = 64 << 20
)

// tarArchive is a tar file indexed once, so that its members can be read in
// place, concurrently, without unpacking it.
type tarArchive struct {
	f       *os.File
	tmp     string // a temporary copy to remove on close, if any
	entries map[string]tarMember
}

type tarMember struct {
	off, size int64
	typ       byte
	link      string
}

// openTarArchive indexes the tar at p. A compressed archive (a .tar.gz of a
// `docker save`) is first decompressed to a temporary file, since members
// must be read at random; it is removed on close.
func openTarArchive(ctx context.Context, p string) (*tarArchive, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not an archive", p)
	}
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	var tmpName string
	if bytes.HasPrefix(magic[:n], gzipMagic) || bytes.HasPrefix(magic[:n], zstdMagic) {
		tmp, name, err := decompressToTemp(ctx, f, bytes.HasPrefix(magic[:n], gzipMagic))
		f.Close()
		if err != nil {
			return nil, err
		}
		f, tmpName = tmp, name
	}
	a := &tarArchive{f: f, tmp: tmpName, entries: map[string]tarMember{}}
	if err := a.index(ctx); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// decompressToTemp writes the decompressed archive to a temporary file. It
// unlinks the file at once where the system allows (it stays readable while
// open), so nothing is left behind even if the process dies; otherwise the
// name to remove on close is returned.
func decompressToTemp(ctx context.Context, f *os.File, isGzip bool) (*os.File, string, error) {
	tmp, err := os.CreateTemp("", "clair-archive-*.tar")
	if err != nil {
		return nil, "", err
	}
	name := tmp.Name()
	if os.Remove(name) == nil {
		name = ""
	}
	fail := func(err error) (*os.File, string, error) {
		tmp.Close()
		if name != "" {
			os.Remove(name)
		}
		return nil, "", err
	}
	br := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: f}, readBufSize)
	var dec io.Reader
	if isGzip {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fail(fmt.Errorf("gzip: %w", err))
		}
		defer zr.Close()
		dec = zr
	} else {
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return fail(fmt.Errorf("zstd: %w", err))
		}
		defer zr.Close()
		dec = zr
	}
	if _, err := io.Copy(tmp, dec); err != nil {
		return fail(fmt.Errorf("decompressing archive: %w", err))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return tmp, name, nil
}

func (a *tarArchive) index(ctx context.Context) error {
	tr := tar.NewReader(a.f) // *os.File seeks, so bodies are skipped, not read
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		off, err := a.f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		name := cleanMember(h.Name)
		if name == "" {
			continue
		}
		a.entries[name] = tarMember{off: off, size: h.Size, typ: h.Typeflag, link: h.Linkname}
	}
}

// cleanMember makes an archive member name comparable: "./blobs/x" and
// "/blobs/x" are "blobs/x".
func cleanMember(name string) string {
	c := path.Clean("/" + name)
	if c == "/" {
		return ""
	}
	return c[1:]
}

// maxLinkHops bounds symlink chains inside an archive (Docker writes one
// level: legacy layer paths pointing at blobs/).
const maxLinkHops = 16

func (a *tarArchive) open(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	n := cleanMember(name)
	for range maxLinkHops {
		m, ok := a.entries[n]
		if !ok {
			return nil, 0, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		switch m.typ {
		case tar.TypeReg, tar.TypeGNUSparse:
			return io.NopCloser(io.NewSectionReader(a.f, m.off, m.size)), m.size, nil
		case tar.TypeSymlink:
			if path.IsAbs(m.link) {
				n = cleanMember(m.link)
			} else {
				n = cleanMember(path.Join(path.Dir(n), m.link))
			}
		case tar.TypeLink:
			n = cleanMember(m.link)
		default:
			return nil, 0, fmt.Errorf("%s: not a regular file in the archive", name)
		}
	}
	return nil, 0, fmt.Errorf("%s: too many levels of symbolic links", name)
}

func (a *tarArchive) close() error {
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	if a.tmp != "" {
		if rerr := os.Remove(a.tmp); err == nil {
			err = rerr
		}
	}
	return err
}
