// Package feedwrite is the half of ReplaceFeed's emit that does not depend
// on the database: the checks every advisory passes before it is written
// (a live context, not nil, not of another feed, no NUL byte), the first
// error kept (sticky) so that a load that swallows it still fails, emits
// after load returned refused, details written once per name, and the
// snapshot copy UpdateDiff reads. Each store supplies only the SQL, so that
// the two stores cannot drift apart on what they accept.
package feedwrite

import (
	"context"
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

// Writer is the state behind one ReplaceFeed's emit. Emit may be called
// from several goroutines; calls to write are serialised.
type Writer struct {
	ctx    context.Context
	prefix string // "sqlite: replace feed debian"
	feed   string
	write  WriteFunc

	mu       sync.Mutex
	done     bool  // load returned
	err      error // first emit error, sticky
	n        int   // advisories written
	detailed map[string]struct{}
	snap     *snapshot.Writer
}

// New returns the writer of one ReplaceFeed of feed by the store named
// backend (the prefix of its errors).
func New(ctx context.Context, backend, feed string, write WriteFunc) *Writer {
	return &Writer{
		ctx:      ctx,
		prefix:   backend + ": replace feed " + feed,
		feed:     feed,
		write:    write,
		detailed: map[string]struct{}{},
		snap:     snapshot.NewWriter(),
	}
}

// Emit is the emit ReplaceFeed passes to load.
func (w *Writer) Emit(a *vuln.Advisory) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("%s: emit called after load returned", w.prefix)
	}
	if w.err != nil {
		return w.err
	}
	if err := w.emit(a); err != nil {
		w.err = fmt.Errorf("%s: %w", w.prefix, err)
		return w.err
	}
	return nil
}

func (w *Writer) emit(a *vuln.Advisory) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
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
	if err := w.write(a, w.n, details); err != nil {
		return err
	}
	if details {
		w.detailed[a.Name] = struct{}{}
	}
	w.n++
	w.snap.Add(a)
	return nil
}

// Close ends the emits and returns what ReplaceFeed must return for
// load's error lerr: nil only when load and every emit succeeded. An emit
// error that load swallowed still fails the replace: the snapshot would be
// incomplete.
func (w *Writer) Close(lerr error) error {
	w.mu.Lock()
	w.done = true
	emitErr := w.err
	w.mu.Unlock()
	switch {
	case lerr != nil && lerr == emitErr: // emit's own error, already prefixed
		return lerr
	case lerr != nil:
		return fmt.Errorf("%s: load: %w", w.prefix, lerr)
	}
	return emitErr
}

// Len returns how many advisories were written.
func (w *Writer) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Snapshot returns the blob of the advisories written, for UpdateDiff.
func (w *Writer) Snapshot() ([]byte, error) {
	blob, err := w.snap.Finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.prefix, err)
	}
	return blob, nil
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
