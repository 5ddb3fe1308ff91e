// Package snapshot writes and reads the tar files feeds keep their
// snapshots in: Fetch writes each upstream document as one entry, Parse
// reads them back in place. It is the one home of the tar loops the feeds
// used to write each for itself (as claircore's updater driver has Fetch
// write an archive and Parse read it).
//
// Entries are regular files with mode 0644 and a zero (1970) modification
// time, so that the same documents always make the same snapshot.
package snapshot

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Writer writes a snapshot.
type Writer struct {
	tw *tar.Writer
	n  int
}

// NewWriter starts a snapshot on w; Close ends it (it does not close w).
func NewWriter(w io.Writer) *Writer { return &Writer{tw: tar.NewWriter(w)} }

func header(name string, size int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
}

// Add writes b as the entry name.
func (w *Writer) Add(name string, b []byte) error {
	if err := w.tw.WriteHeader(header(name, int64(len(b)))); err != nil {
		return fmt.Errorf("snapshot: %s: %w", name, err)
	}
	if _, err := w.tw.Write(b); err != nil {
		return fmt.Errorf("snapshot: %s: %w", name, err)
	}
	w.n++
	return nil
}

// AddFile copies the file at path as the entry name.
func (w *Writer) AddFile(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("snapshot: %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("snapshot: %s: %w", name, err)
	}
	return w.AddReader(name, fi.Size(), f)
}

// AddReader copies size bytes of r as the entry name; r holding fewer is
// an error.
func (w *Writer) AddReader(name string, size int64, r io.Reader) error {
	if err := w.tw.WriteHeader(header(name, size)); err != nil {
		return fmt.Errorf("snapshot: %s: %w", name, err)
	}
	n, err := io.Copy(w.tw, io.LimitReader(r, size))
	if err != nil {
		return fmt.Errorf("snapshot: %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("snapshot: %s: %d bytes copied, want %d", name, n, size)
	}
	w.n++
	return nil
}

// Len is how many entries were added.
func (w *Writer) Len() int { return w.n }

// Close writes the end of the snapshot.
func (w *Writer) Close() error {
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// Entry is one regular file of a snapshot, readable in place: a tar
// entry's data is contiguous in the snapshot.
type Entry struct {
	Name string
	Data *io.SectionReader
}

// ErrNotTar is returned (wrapped) by Entries for bytes that are not a tar.
var ErrNotTar = errors.New("not a tar snapshot")

// IsTar reports whether snap starts with a tar header (the "ustar" magic
// of POSIX and GNU tars), for feeds that also read a lone document.
func IsTar(snap io.ReaderAt) bool {
	var head [512]byte
	n, _ := snap.ReadAt(head[:], 0)
	return n == 512 && string(head[257:262]) == "ustar"
}

// Entries lists the regular files of the snapshot, in order. Other entry
// kinds are skipped. A damaged or truncated tar is an error.
func Entries(snap io.ReaderAt, size int64) ([]Entry, error) {
	var out []Entry
	err := Walk(context.Background(), snap, size, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Walk calls fn with each regular file of the snapshot, in order, checking
// ctx between entries. An error of fn stops the walk and is returned as it
// is.
func Walk(ctx context.Context, snap io.ReaderAt, size int64, fn func(Entry) error) error {
	sr := io.NewSectionReader(snap, 0, size)
	tr := tar.NewReader(sr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		// The tar reader has read exactly the headers: the position is the
		// start of the entry's data.
		off, err := sr.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if h.Size < 0 || off+h.Size > size {
			return fmt.Errorf("snapshot: %s: truncated", h.Name)
		}
		if err := fn(Entry{Name: h.Name, Data: io.NewSectionReader(snap, off, h.Size)}); err != nil {
			return err
		}
	}
}
