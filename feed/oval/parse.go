package oval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/vuln"
)

// Parse implements feed.Feed. snap is the tar Fetch wrote, or one document
// on its own (plain or compressed), whose definitions then need a release
// test for their namespace.
func (f *Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	st, err := f.ParseStats(ctx, snap, size, emit)
	if err != nil {
		return err
	}
	log := f.Log
	if log == nil {
		log = slog.Default()
	}
	if len(st.Notes) > 0 {
		keys := make([]string, 0, len(st.Notes))
		for k := range st.Notes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := []any{"feed", f.Name(), "documents", st.Documents, "definitions", st.Definitions, "advisories", st.Advisories}
		for _, k := range keys {
			attrs = append(attrs, k, st.Notes[k])
		}
		log.Info("oval: constraints skipped or read as true", attrs...)
	}
	return nil
}

// document is one OVAL document of a snapshot.
type document struct {
	name string
	data *io.SectionReader
}

// documents lists the snapshot's documents.
func documents(snap io.ReaderAt, size int64) ([]document, error) {
	if !snapshot.IsTar(snap) {
		return []document{{name: "", data: io.NewSectionReader(snap, 0, size)}}, nil
	}
	es, err := snapshot.Entries(snap, size)
	if err != nil {
		return nil, err
	}
	out := make([]document, 0, len(es))
	for _, e := range es {
		out = append(out, document{name: e.Name, data: e.Data})
	}
	if len(out) == 0 {
		return nil, errors.New("snapshot holds no documents")
	}
	return out, nil
}

// ParseStats is Parse returning what it counted.
func (f *Feed) ParseStats(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) (*Stats, error) {
	docs, err := documents(snap, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	st := &Stats{}
	for _, d := range docs {
		if err := f.parseDocument(ctx, d, st, emit); err != nil {
			return nil, err
		}
		st.Documents++
	}
	return st, nil
}

// maxDocument bounds one decompressed document. The largest real ones
// (SUSE's SLES 15, Oracle's elsa-all) are around a gigabyte; past this a
// compressed document is a bomb.
const maxDocument = 16 << 30

func (f *Feed) parseDocument(ctx context.Context, d document, st *Stats, emit func(*vuln.Advisory) error) error {
	label := d.name
	if label == "" {
		label = "snapshot"
	}
	fail := func(err error) error { return fmt.Errorf("%s: %s: %w", f.Name(), label, err) }
	open := func() (io.Reader, func(), error) {
		return decompress(io.NewSectionReader(d.data, 0, d.data.Size()))
	}
	r, done, err := open()
	if err != nil {
		return fail(err)
	}
	ix, err := readIndex(ctx, r)
	done()
	if err != nil {
		return fail(err)
	}
	r, done, err = open()
	if err != nil {
		return fail(err)
	}
	defer done()
	res := &resolver{ix: ix, dist: f.Distro, stats: st}
	fileNS := f.Distro.fileNS(d.name)
	err = readDefinitions(ctx, r, func(def *Definition) error {
		st.Definitions++
		switch strings.ToLower(def.Class) {
		case "", "patch", "vulnerability":
		default:
			st.note("definition of class " + scrub(def.Class) + " skipped")
			return nil
		}
		stmts, err := res.statements(def, fileNS)
		if errors.Is(err, errTooLarge) {
			st.note("definition whose criteria expand too far skipped")
			return nil
		}
		if err != nil {
			return fmt.Errorf("definition %s: %w", scrub(def.ID), err)
		}
		if len(stmts) == 0 {
			return nil
		}
		return f.emit(def, stmts, st, emit)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// decompress opens a document plain or compressed (gzip, bzip2, xz,
// zstd), told by its first bytes.
func decompress(r io.Reader) (io.Reader, func(), error) {
	dr, _, err := feed.Decompress(r, maxDocument)
	if err != nil {
		return nil, nil, err
	}
	return dr, func() { dr.Close() }, nil
}
