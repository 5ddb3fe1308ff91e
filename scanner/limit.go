package scanner

import (
	"errors"
	"io"
	"strings"
)

// ErrTooLarge is returned by a LimitReader once more than its limit came.
var ErrTooLarge = errors.New("too large")

// LimitReader lets max bytes through and fails on the next one, where
// io.LimitReader would end quietly and leave a truncated file looking whole.
// Scanners read untrusted files through it.
func LimitReader(r io.Reader, max int64) io.Reader { return &limitReader{r: r, n: max + 1} }

type limitReader struct {
	r io.Reader
	n int64 // bytes still allowed, plus one
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, ErrTooLarge
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	if l.n <= 0 {
		return n, ErrTooLarge
	}
	return n, err
}

// Clip shortens a piece of untrusted input for an error or warning message.
func Clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
