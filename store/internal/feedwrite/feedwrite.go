// Package feedwrite is the half of ReplaceFeed's and ReplaceEnrichments'
// emit that does not depend on the database: the checks every record passes
// before it is written (a live context; an advisory not nil, not of another
// feed, without NUL bytes; an enrichment record a CVE's), the first error
// kept (sticky) so that a load that swallows it still fails, emits after
// load returned refused, details written once per name, and the snapshot
// copy UpdateDiff reads. Each store supplies only the SQL, so that the two
// stores cannot drift apart on what they accept.
package feedwrite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/openclair/clair/store/internal/snapshot"
	"github.com/openclair/clair/vuln"
)

// ErrNUL is returned (wrapped) for a string that cannot be stored:
// PostgreSQL's text cannot hold NUL, and SQLite's records use it as their
// separator. Checking before writing gives a clear error naming the advisory
// rather than the database's a batch later.
var ErrNUL = errors.New("string contains a NUL byte")

// WriteFunc writes one checked advisory: its row, numbered seq (0, 1, ...
// in emit order), and when details is true the details of its name too
// (the first advisory of a name that carries any). Its error is wrapped
// with the feed; it is not called again after one.
type WriteFunc func(a *vuln.Advisory, seq int, details bool) error

// Emitter is the emit a Replace passes to its load, for records of type
// T: it refuses records once ctx is done or after load returned, keeps the
// first error (sticky) so that a load that swallows it still fails, and
// serialises the calls to write, so that load may emit from several
// goroutines while write needs no lock of its own.
type Emitter[T any] struct {
	ctx    context.Context
	prefix string
	write  func(T) error

	mu   sync.Mutex
	done bool  // load returned
	err  error // first emit error, sticky
	n    int   // records written
}

// NewEmitter returns an Emitter whose errors start with prefix (such as
// "sqlite: replace enrichments kev").
func NewEmitter[T any](ctx context.Context, prefix string, write func(T) error) *Emitter[T] {
	return &Emitter[T]{ctx: ctx, prefix: prefix, write: write}
}

// Emit is the emit passed to load.
func (e *Emitter[T]) Emit(v T) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return fmt.Errorf("%s: emit called after load returned", e.prefix)
	}
	if e.err != nil {
		return e.err
	}
	err := e.ctx.Err()
	if err == nil {
		err = e.write(v)
	}
	if err != nil {
		e.err = fmt.Errorf("%s: %w", e.prefix, err)
		return e.err
	}
	e.n++
	return nil
}

// Close ends the emits and returns what the Replace must return for
// load's error lerr: nil only when load and every emit succeeded. An emit
// error that load swallowed still fails the replace: what was written is
// incomplete.
func (e *Emitter[T]) Close(lerr error) error {
	e.mu.Lock()
	e.done = true
	emitErr := e.err
	e.mu.Unlock()
	switch {
	case lerr != nil && lerr == emitErr: // emit's own error, already prefixed
		return lerr
	case lerr != nil:
		return fmt.Errorf("%s: load: %w", e.prefix, lerr)
	}
	return emitErr
}

// Len returns how many records were written.
func (e *Emitter[T]) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// Writer is the emit of one ReplaceFeed: an Emitter of advisories that
// checks each (not nil, not of another feed, no NUL byte), writes the
// details of a name once, and keeps the snapshot copy UpdateDiff reads.
type Writer struct {
	*Emitter[*vuln.Advisory]
	feed     string
	write    WriteFunc
	seq      int
	detailed map[string]struct{}
	snap     *snapshot.Writer
}

// New returns the writer of one ReplaceFeed of feed by the store named
// backend (the prefix of its errors).
func New(ctx context.Context, backend, feed string, write WriteFunc) *Writer {
	w := &Writer{
		feed:     feed,
		write:    write,
		detailed: map[string]struct{}{},
		snap:     snapshot.NewWriter(),
	}
	w.Emitter = NewEmitter(ctx, backend+": replace feed "+feed, w.add)
	return w
}

func (w *Writer) add(a *vuln.Advisory) error {
	if a == nil {
		return errors.New("nil advisory")
	}
	if a.Feed != "" && a.Feed != w.feed {
		return fmt.Errorf("advisory %s of feed %q", a.Name, a.Feed)
	}
	if err := CheckNUL(a); err != nil {
		return fmt.Errorf("advisory %s %s %s: %w", a.Namespace, a.Package, a.Name, err)
	}
	_, done := w.detailed[a.Name]
	details := !done && hasDetails(a)
	if err := w.write(a, w.seq, details); err != nil {
		return err
	}
	if details {
		w.detailed[a.Name] = struct{}{}
	}
	w.seq++
	w.snap.Add(a)
	return nil
}

// Snapshot returns the blob of the advisories written, for UpdateDiff.
func (w *Writer) Snapshot() ([]byte, error) {
	blob, err := w.snap.Finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.prefix, err)
	}
	return blob, nil
}

// EncodeEnrichment checks an enrichment feed's record (not nil, a CVE id,
// not of another feed) and returns its stored form (JSON without Feed and
// CVE) and its key, the CVE id in upper case.
func EncodeEnrichment(feed string, e *vuln.Enrichment) (rec []byte, cve string, err error) {
	if e == nil {
		return nil, "", fmt.Errorf("nil record")
	}
	if !vuln.IsCVE(e.CVE) {
		return nil, "", fmt.Errorf("record of %q: not a CVE id", e.CVE)
	}
	if e.Feed != "" && e.Feed != feed {
		return nil, "", fmt.Errorf("record %s of feed %q", e.CVE, e.Feed)
	}
	cp := *e
	cp.Feed, cp.CVE = "", strings.ToUpper(e.CVE)
	rec, err = json.Marshal(&cp)
	if err != nil {
		return nil, "", fmt.Errorf("record %s: %w", e.CVE, err)
	}
	return rec, cp.CVE, nil
}

func hasDetails(a *vuln.Advisory) bool {
	return a.Description != "" || len(a.Links) > 0 || !a.Issued.IsZero() || len(a.Aliases) > 0
}

// CheckNUL fails if any string of a contains NUL.
func CheckNUL(a *vuln.Advisory) error {
	for _, s := range [...]string{a.Name, a.Namespace, a.Package, a.VersionFormat, string(a.State),
		a.FixedIn, a.Severity, a.Description} {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%w: %q", ErrNUL, s)
		}
	}
	for _, r := range a.Ranges {
		if strings.IndexByte(r.Introduced, 0) >= 0 || strings.IndexByte(r.Fixed, 0) >= 0 ||
			strings.IndexByte(r.LastAffected, 0) >= 0 {
			return fmt.Errorf("%w: range %+v", ErrNUL, r)
		}
	}
	for _, l := range [...][]string{a.Versions, a.Links, a.Aliases} {
		for _, s := range l {
			if strings.IndexByte(s, 0) >= 0 {
				return fmt.Errorf("%w: %q", ErrNUL, s)
			}
		}
	}
	return nil
}
