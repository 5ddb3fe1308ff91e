// Package snapshot keeps a copy of a feed snapshot's advisories as one
// compressed blob per update operation, so that the stores can say what an
// update changed (store.Store.UpdateDiff) after the rows of the old snapshot
// are gone. Both stores use it, so their blobs and diffs are the same.
//
// A blob holds the snapshot's records sorted by their bytes: a diff merges two
// sorted lists in one pass, with no index and no second read of the feed's
// tables. ReplaceFeed builds the blob as load emits (Writer.Add), and sorts
// and compresses it once at the end (Writer.Finish).
//
// Each advisory is two parts: its record (every field but Feed and the
// details, length-prefixed so that any byte may appear and equal bytes mean
// equal content) and the details of its name (Description, Links, Issued,
// Aliases), kept once per name as the stores keep them: the first advisory of
// a name that carries details gives them to every advisory of that name. Two
// advisories are the same when their records and their names' details are.
package snapshot

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/rowscan"
	"github.com/openclair/clair/vuln"
)

// version is the first field of a blob: a later format can still read, or
// refuse, the blobs written before it.
const version = 1

// Writer gathers the advisories of one snapshot. It is not safe for
// concurrent use (the stores call it under their emit lock).
type Writer struct {
	arena   []byte   // the records, back to back
	recs    []span   // where each record is in arena
	details []byte   // details records, back to back
	names   []detail // the names with details, first wins
	seen    map[string]struct{}
}

type span struct{ off, n int }

type detail struct {
	name string
	span span // in Writer.details
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer {
	return &Writer{seen: map[string]struct{}{}}
}

// Add appends a to the snapshot. a.Feed is not kept: a blob belongs to one
// feed.
func (w *Writer) Add(a *vuln.Advisory) {
	off := len(w.arena)
	w.arena = appendRecord(w.arena, a)
	w.recs = append(w.recs, span{off, len(w.arena) - off})
	if !hasDetails(a) {
		return
	}
	if _, ok := w.seen[a.Name]; ok {
		return
	}
	w.seen[a.Name] = struct{}{}
	off = len(w.details)
	w.details = appendDetails(w.details, a)
	w.names = append(w.names, detail{a.Name, span{off, len(w.details) - off}})
}

// Len is the number of advisories added.
func (w *Writer) Len() int { return len(w.recs) }

// Finish sorts and compresses the snapshot into a blob. The Writer must not
// be used afterwards.
func (w *Writer) Finish() ([]byte, error) {
	rec := func(s span) []byte { return w.arena[s.off : s.off+s.n] }
	slices.SortFunc(w.recs, func(a, b span) int { return bytes.Compare(rec(a), rec(b)) })
	slices.SortFunc(w.names, func(a, b detail) int { return cmp.Compare(a.name, b.name) })

	size := 2 * binary.MaxVarintLen64
	for _, d := range w.names {
		size += 2*binary.MaxVarintLen64 + len(d.name) + d.span.n
	}
	for _, r := range w.recs {
		size += binary.MaxVarintLen64 + r.n
	}
	raw := make([]byte, 0, size)
	raw = binary.AppendUvarint(raw, version)
	raw = binary.AppendUvarint(raw, uint64(len(w.names)))
	for _, d := range w.names {
		raw = appendString(raw, d.name)
		raw = appendBytes(raw, w.details[d.span.off:d.span.off+d.span.n])
	}
	raw = binary.AppendUvarint(raw, uint64(len(w.recs)))
	for _, r := range w.recs {
		raw = appendBytes(raw, rec(r))
	}
	*w = Writer{} // let the arena go before compressing
	enc, err := encoder()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	// The decompressed size first: a diff allocates the buffer once.
	blob := binary.AppendUvarint(nil, uint64(len(raw)))
	return enc.EncodeAll(raw, blob), nil
}

// The fastest level: a blob is written on every update, and sorted records
// compress well even so (1.8 MB for the 100k advisories of the benchmark
// feed, store/sqlite's bench_test.go).
var encoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	// EncodeAll is safe for concurrent use: one encoder serves every update.
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true))
})

func hasDetails(a *vuln.Advisory) bool {
	return a.Description != "" || len(a.Links) > 0 || !a.Issued.IsZero() || len(a.Aliases) > 0
}

// appendRecord encodes every field of a but Feed and the details. Namespace,
// Package and Name come first: records sort by them (after their lengths),
// which groups alike records for the compressor, and nameOf finds the name
// without decoding the rest.
func appendRecord(b []byte, a *vuln.Advisory) []byte {
	b = appendString(b, a.Namespace)
	b = appendString(b, a.Package)
	b = appendString(b, a.Name)
	b = appendString(b, string(a.State))
	b = appendString(b, a.VersionFormat)
	b = appendString(b, a.FixedIn)
	b = appendString(b, a.Severity)
	b = binary.AppendVarint(b, int64(a.NormalizedSeverity))
	b = binary.AppendUvarint(b, uint64(len(a.Ranges)))
	for _, r := range a.Ranges {
		b = appendString(b, r.Introduced)
		b = appendString(b, r.Fixed)
		b = appendString(b, r.LastAffected)
	}
	b = appendStrings(b, a.Versions)
	b = appendStrings(b, a.Arches)
	b = appendString(b, a.Module)
	b = appendStrings(b, a.Repositories)
	return b
}

// appendDetails encodes a's details. Issued is kept exactly (in UTC, as the
// stores return it); "" is no date.
func appendDetails(b []byte, a *vuln.Advisory) []byte {
	b = appendString(b, a.Description)
	b = appendStrings(b, a.Links)
	var issued []byte
	if !a.Issued.IsZero() {
		// MarshalBinary fails only for a zone offset that is not a whole
		// minute; UTC has none.
		issued, _ = a.Issued.UTC().MarshalBinary()
	}
	b = appendBytes(b, issued)
	b = appendStrings(b, a.Aliases)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// maxPrealloc bounds the buffer allocated for a blob's decompressed size
// before decompressing. Feeds stay far below it.
const maxPrealloc = 1 << 30

// errCorrupt is returned for a blob that does not decode.
var errCorrupt = errors.New("snapshot: corrupt blob")

// reader walks encoded fields.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string { return string(r.bytes()) }

// count reads a list length, bounded by what is left (every element takes at
// least one byte): a corrupt length cannot make a huge allocation.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return 0
	}
	return int(n)
}

func (r *reader) strings() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.string()
	}
	return ss
}

// parsed is a decompressed blob, its records still encoded.
type parsed struct {
	names   [][]byte // sorted
	details [][]byte // details[i] are names[i]'s
	recs    [][]byte // sorted
}

var decoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	// DecodeAll is safe for concurrent use: one decoder serves every diff.
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
})

func parse(blob []byte) (*parsed, error) {
	dec, err := decoder()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	size, hn := binary.Uvarint(blob)
	if hn <= 0 {
		return nil, errCorrupt
	}
	// A corrupt size must not allocate without bound: past maxPrealloc
	// the buffer grows as it fills.
	raw, err := dec.DecodeAll(blob[hn:], make([]byte, 0, min(size, maxPrealloc)))
	if err != nil {
		return nil, fmt.Errorf("snapshot: decompress: %w", err)
	}
	r := &reader{b: raw}
	if v := r.uvarint(); r.err == nil && v != version {
		return nil, fmt.Errorf("snapshot: blob version %d, want %d", v, version)
	}
	p := &parsed{}
	n := r.count()
	p.names, p.details = make([][]byte, n), make([][]byte, n)
	for i := range n {
		p.names[i], p.details[i] = r.bytes(), r.bytes()
	}
	n = r.count()
	p.recs = make([][]byte, n)
	for i := range n {
		p.recs[i] = r.bytes()
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	if r.err != nil {
		return nil, r.err
	}
	return p, nil
}

// detailsOf returns the encoded details of name, nil for none.
func (p *parsed) detailsOf(name []byte) []byte {
	i, ok := slices.BinarySearchFunc(p.names, name, bytes.Compare)
	if !ok {
		return nil
	}
	return p.details[i]
}

// nameOf returns the Name field of a record.
func nameOf(rec []byte) []byte {
	r := &reader{b: rec}
	r.bytes() // namespace
	r.bytes() // package
	return r.bytes()
}

// advisory decodes rec, with its details from p, as an advisory of feed.
func (p *parsed) advisory(feed string, rec []byte) (*vuln.Advisory, error) {
	r := &reader{b: rec}
	a := &vuln.Advisory{Feed: feed}
	a.Namespace = r.string()
	a.Package = r.string()
	a.Name = r.string()
	a.State = vuln.State(r.string())
	a.VersionFormat = r.string()
	a.FixedIn = r.string()
	a.Severity = r.string()
	a.NormalizedSeverity = vuln.Severity(r.varint())
	if n := r.count(); n > 0 {
		a.Ranges = make([]vuln.Range, n)
		for i := range a.Ranges {
			a.Ranges[i] = vuln.Range{Introduced: r.string(), Fixed: r.string(), LastAffected: r.string()}
		}
	}
	a.Versions = r.strings()
	a.Arches = r.strings()
	a.Module = r.string()
	a.Repositories = r.strings()
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	if r.err != nil {
		return nil, r.err
	}
	if d := p.detailsOf([]byte(a.Name)); d != nil {
		r := &reader{b: d}
		a.Description = r.string()
		a.Links = r.strings()
		if issued := r.bytes(); len(issued) > 0 && r.err == nil {
			var t time.Time
			if err := t.UnmarshalBinary(issued); err != nil {
				return nil, fmt.Errorf("%w: issued: %w", errCorrupt, err)
			}
			a.Issued = t.UTC()
		}
		a.Aliases = r.strings()
		if r.err != nil {
			return nil, r.err
		}
	}
	return a, nil
}

// Diff returns the advisories of cur that prev lacks (added) and those of
// prev that cur lacks (removed), as advisories of feed with their details.
// An advisory whose record or whose name's details changed is one removed and
// one added. The lists are multisets: an advisory stated twice in prev and
// once in cur is removed once. prev nil is the empty snapshot: everything in
// cur is added. Both lists are in the blobs' sorted order.
func Diff(feed string, prev, cur []byte) (added, removed []*vuln.Advisory, err error) {
	p := &parsed{}
	if prev != nil {
		if p, err = parse(prev); err != nil {
			return nil, nil, fmt.Errorf("previous snapshot: %w", err)
		}
	}
	c, err := parse(cur)
	if err != nil {
		return nil, nil, fmt.Errorf("current snapshot: %w", err)
	}

	// The names whose details differ, found in one merge of the two sorted
	// name lists: usually none, and then equal records need no more look.
	changed := map[string]struct{}{}
	for i, j := 0, 0; i < len(p.names) || j < len(c.names); {
		switch k := cmpNext(p.names, c.names, i, j); {
		case k < 0:
			changed[string(p.names[i])] = struct{}{}
			i++
		case k > 0:
			changed[string(c.names[j])] = struct{}{}
			j++
		default:
			if !bytes.Equal(p.details[i], c.details[j]) {
				changed[string(p.names[i])] = struct{}{}
			}
			i++
			j++
		}
	}

	add := func(list *[]*vuln.Advisory, from *parsed, rec []byte) error {
		a, err := from.advisory(feed, rec)
		if err != nil {
			return err
		}
		*list = append(*list, a)
		return nil
	}
	for i, j := 0, 0; i < len(p.recs) || j < len(c.recs); {
		switch k := cmpNext(p.recs, c.recs, i, j); {
		case k < 0:
			err = add(&removed, p, p.recs[i])
			i++
		case k > 0:
			err = add(&added, c, c.recs[j])
			j++
		default:
			if len(changed) > 0 {
				if _, ok := changed[string(nameOf(c.recs[j]))]; ok {
					if err = add(&removed, p, p.recs[i]); err == nil {
						err = add(&added, c, c.recs[j])
					}
				}
			}
			i++
			j++
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return added, removed, nil
}

// cmpNext compares a[i] with b[j], an exhausted list sorting last.
func cmpNext(a, b [][]byte, i, j int) int {
	switch {
	case i == len(a):
		return 1
	case j == len(b):
		return -1
	}
	return bytes.Compare(a[i], b[j])
}

// UpdateDiff is store.Store.UpdateDiff once a store has read the operations
// prev and cur (ops, by id, absent when unknown) and their blobs (nil when not
// kept). prev "" is the empty snapshot.
func UpdateDiff(prev, cur string, ops map[string]store.UpdateOperation, blobs map[string][]byte) (*store.UpdateDiff, error) {
	ids := []string{cur}
	if prev != "" {
		ids = append(ids, prev)
	}
	for _, id := range ids {
		if _, ok := ops[id]; !ok {
			return nil, fmt.Errorf("operation %q: %w", id, store.ErrNotFound)
		}
		if blobs[id] == nil {
			return nil, fmt.Errorf("operation %s: snapshot not kept: %w", id, store.ErrNotFound)
		}
	}
	d := &store.UpdateDiff{Cur: ops[cur]}
	var prevBlob []byte
	if prev != "" {
		d.Prev, prevBlob = ops[prev], blobs[prev]
		if d.Prev.Feed != d.Cur.Feed {
			return nil, fmt.Errorf("operations of different feeds (%s, %s): %w", d.Prev.Feed, d.Cur.Feed, store.ErrInvalid)
		}
	}
	var err error
	if d.Added, d.Removed, err = Diff(d.Cur.Feed, prevBlob, blobs[cur]); err != nil {
		return nil, err
	}
	return d, nil
}

// ScanUpdateDiff is UpdateDiff of the operations read from rows, each
// (id, feed, fingerprint, date in Unix nanoseconds, advisories, blob or
// NULL): both stores read prev and cur with one statement, so that a GC
// running meanwhile cannot leave one half read.
func ScanUpdateDiff(prev, cur string, rows rowscan.Rows) (*store.UpdateDiff, error) {
	ops := map[string]store.UpdateOperation{}
	blobs := map[string][]byte{}
	for rows.Next() {
		var op store.UpdateOperation
		var date int64
		var blob []byte
		if err := rows.Scan(&op.ID, &op.Feed, &op.Fingerprint, &date, &op.Advisories, &blob); err != nil {
			return nil, err
		}
		op.Date = time.Unix(0, date).UTC()
		ops[op.ID], blobs[op.ID] = op, blob
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return UpdateDiff(prev, cur, ops, blobs)
}
