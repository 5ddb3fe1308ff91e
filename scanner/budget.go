package scanner

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/openclair/clair/limit"
)

// ErrBudget is what Budget.Take fails with (errors.Is) once a budget is
// spent.
var ErrBudget = errors.New("budget exhausted")

// Budget is what the scanners of one layer may still inflate (nested
// archives, compressed sections) or spool to disk, in bytes. The indexer
// gives each layer one, whose parent is the image's: a layer cannot spend
// what the image has left, however much of its own it has. Safe for
// concurrent use; a nil *Budget has no limit.
type Budget struct {
	name   string // "layer", "image": for messages
	limit  int64
	left   atomic.Int64
	parent *Budget
	// byParent records that a Take failed for the parent's sake: what
	// the layer found then depends on the other layers of the image.
	byParent atomic.Bool
}

// NewBudget returns a budget of limit bytes (<= 0: none left) drawn also
// from parent, if not nil. name says what it is the budget of.
func NewBudget(name string, limit int64, parent *Budget) *Budget {
	b := &Budget{name: name, limit: limit, parent: parent}
	b.left.Store(limit)
	return b
}

// Take charges n bytes, or none and fails with an error matching ErrBudget
// if b or a parent has fewer than n left.
func (b *Budget) Take(n int64) error {
	if b == nil || n <= 0 {
		return nil
	}
	if b.left.Add(-n) < 0 {
		b.left.Add(n)
		return fmt.Errorf("over the %s budget of %s: %w", b.name, limit.Bytes(b.limit), ErrBudget)
	}
	if err := b.parent.Take(n); err != nil {
		b.left.Add(n)
		b.byParent.Store(true)
		return err
	}
	return nil
}

// Fits reports whether n bytes could be taken now, without taking them: a
// scanner that knows what something will cost refuses it before spending
// anything. A refusal for a parent's sake counts as RefusedByParent.
func (b *Budget) Fits(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	if n > b.left.Load() {
		return false
	}
	if !b.parent.Fits(n) {
		b.byParent.Store(true)
		return false
	}
	return true
}

// Left is what b (and its parents) still allow.
func (b *Budget) Left() int64 {
	if b == nil {
		return 1<<63 - 1
	}
	n := b.left.Load()
	if p := b.parent.Left(); p < n {
		n = p
	}
	return max(n, 0)
}

// RefusedByParent reports whether a Take failed because a parent budget
// (the image's) was spent, not b's own.
func (b *Budget) RefusedByParent() bool { return b != nil && b.byParent.Load() }

// Reader charges what it reads from r to b, and fails with an ErrBudget
// error on the read that would overspend it.
func (b *Budget) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &budgetReader{r: r, b: b}
}

type budgetReader struct {
	r io.Reader
	b *Budget
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if n > 0 {
		if berr := br.b.Take(int64(n)); berr != nil {
			return 0, berr
		}
	}
	return n, err
}
