// Package limit bounds what is read from or written for untrusted input. Its
// readers and writers fail once past their limit, where io.LimitReader ends
// quietly and leaves a truncated file looking whole: a scanner, a feed or a
// handler that reads through them gets ErrTooLarge (wrapped in a *Error
// naming the limit) and can say so.
//
// It is the one home of these wrappers: scanners, feeds and plugins written
// outside this module use it too.
package limit

import (
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is what every limit of this package fails with (errors.Is).
var ErrTooLarge = errors.New("too large")

// Error says which limit was passed.
type Error struct {
	Limit int64 // in bytes
}

func (e *Error) Error() string { return fmt.Sprintf("too large: over %s", Bytes(e.Limit)) }

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *Error) Is(target error) bool { return target == ErrTooLarge }

// Reader lets max bytes through and fails on the next one.
func Reader(r io.Reader, max int64) io.Reader { return &reader{r: r, max: max, n: max + 1} }

type reader struct {
	r   io.Reader
	max int64
	n   int64 // bytes still allowed, plus one
}

func (l *reader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, &Error{Limit: l.max}
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	if l.n <= 0 {
		return n - 1, &Error{Limit: l.max}
	}
	return n, err
}

// ReadAll reads r to its end, or fails with ErrTooLarge past max bytes
// instead of returning a truncated slice.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	return io.ReadAll(Reader(r, max))
}

// Writer lets max bytes through to w and fails the write that would pass it,
// having written nothing of that write.
func Writer(w io.Writer, max int64) io.Writer { return &writer{w: w, max: max} }

type writer struct {
	w      io.Writer
	max, n int64
}

func (l *writer) Write(b []byte) (int, error) {
	if l.n+int64(len(b)) > l.max {
		return 0, &Error{Limit: l.max}
	}
	n, err := l.w.Write(b)
	l.n += int64(n)
	return n, err
}

// Bytes prints a size for people: 512 B, 64 KiB, 1.5 GiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}
