// Package errkind is the one error type the services return to the
// transports: an error with a Kind (what went wrong, in terms a transport
// can map to a status without reading text), a public message (safe to
// show a client) and the cause (for the logs only). Transports map kinds;
// nothing matches error strings or imports another package's error types.
package errkind

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Kind says what went wrong. Kinds are errors themselves, so that
// errors.Is(err, errkind.NotFound) reads naturally.
type Kind uint8

// Kinds.
const (
	// Internal is a fault of the server itself (a bug): nothing the caller
	// can change.
	Internal Kind = iota
	// Invalid is a malformed request: the caller must change it.
	Invalid
	// NotFound is a request for something that is not there.
	NotFound
	// Conflict is a request that cannot go with the server's state.
	Conflict
	// TooLarge is a request (or what it points at) over a limit.
	TooLarge
	// BadContent is a well-formed request pointing at content that cannot
	// be used: a layer naming files outside the image root, a blob that
	// does not match its digest, a tar that does not decode.
	BadContent
	// Upstream is a source the server fetches from on the caller's behalf
	// (a registry) that failed.
	Upstream
	// Unavailable is a dependency of the server (its database) that is
	// down: the same request may succeed later.
	Unavailable
	// Timeout is a deadline passed: a source too slow, a request too long.
	Timeout
	// Canceled is the caller gone before the answer.
	Canceled
	// Busy is a server at a limit of work at once: retry later.
	Busy
)

var names = [...]string{"internal", "invalid", "not found", "conflict", "too large", "bad content", "upstream", "unavailable", "timeout", "canceled", "busy"}

func (k Kind) String() string {
	if int(k) < len(names) {
		return names[k]
	}
	return "internal"
}

// Error makes Kind an error, for errors.Is.
func (k Kind) Error() string { return k.String() }

// Error is an error with a kind. Error() is the full internal text (its
// cause's, for the logs); Msg is what a client may read.
type Error struct {
	Kind Kind
	// Msg is the public message: it names what the client sent (a field,
	// a layer digest) and never the server's internals (addresses,
	// connection strings, what a private host answered).
	Msg string
	Err error
}

// New returns an error of kind k whose public and internal text is msg.
func New(k Kind, msg string) error { return &Error{Kind: k, Msg: msg} }

// Wrap returns err with kind k and public message msg; nil for a nil err.
func Wrap(k Kind, msg string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Msg: msg, Err: err}
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// Explicit returns the kind of the outermost *Error in err's chain.
func Explicit(err error) (Kind, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, true
	}
	return Internal, false
}

// Of returns err's kind: the outermost *Error's, or else what the error
// says of itself (a canceled context, a connection refused or reset, a
// database driver's "safe to retry"), or Internal.
func Of(err error) Kind {
	if k, ok := Explicit(err); ok {
		return k
	}
	return classify(err)
}

// classify recognises the errors of the standard library and database
// drivers without importing the drivers: pgx's errors say SafeToRetry,
// and its server errors have an SQLSTATE.
func classify(err error) Kind {
	switch {
	case err == nil:
		return Internal
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	}
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return Unavailable
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		switch s := st.SQLState(); {
		case len(s) == 5 && s[:2] == "08", // connection exception
			s[:2] == "53",                            // insufficient resources
			s == "57P01", s == "57P02", s == "57P03": // shutting down, crashed, starting
			return Unavailable
		}
		return Internal
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return Unavailable
	}
	return Internal
}

// Public returns what a client may read of err: the outermost *Error's
// message, or else a stable message for its kind.
func Public(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return Message(Of(err))
}

// Message is the stable public message of a kind.
func Message(k Kind) string {
	switch k {
	case Invalid:
		return "invalid request"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case TooLarge:
		return "too large"
	case BadContent:
		return "content cannot be processed"
	case Upstream:
		return "a layer source failed"
	case Unavailable:
		return "service unavailable: retry later"
	case Timeout:
		return "timed out"
	case Canceled:
		return "request canceled"
	case Busy:
		return "too many requests: retry later"
	}
	return "internal error"
}
