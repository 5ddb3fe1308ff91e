package scanner

import (
	"io"
	"strings"

	"github.com/openclair/clair/limit"
)

// ErrTooLarge is returned by a LimitReader once more than its limit came.
var ErrTooLarge = limit.ErrTooLarge

// LimitReader lets max bytes through and fails on the next one (see package
// limit, the one home of these wrappers).
func LimitReader(r io.Reader, max int64) io.Reader { return limit.Reader(r, max) }

// Clip shortens a piece of untrusted input for an error or warning message.
func Clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
