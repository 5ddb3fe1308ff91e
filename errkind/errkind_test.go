package errkind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
)

type pgErr struct{ code string }

func (e *pgErr) Error() string    { return "ERROR: x (SQLSTATE " + e.code + ")" }
func (e *pgErr) SQLState() string { return e.code }

type retryErr struct{}

func (retryErr) Error() string {
	return "failed to connect to `user=postgres database=x`: 127.0.0.1:5432: refused"
}
func (retryErr) SafeToRetry() bool { return true }

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Kind
	}{
		{New(NotFound, "index report not found"), NotFound},
		{fmt.Errorf("service: %w", Wrap(BadContent, "layer x: bad", errors.New("tar"))), BadContent},
		// The outermost kind wins: a layer refused by the network policy
		// inside a manifest is the manifest's problem.
		{Wrap(Invalid, "m", Wrap(Upstream, "u", errors.New("x"))), Invalid},
		{fmt.Errorf("x: %w", context.Canceled), Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), Timeout},
		{fmt.Errorf("store: %w", retryErr{}), Unavailable},
		{&pgErr{"57P01"}, Unavailable},
		{&pgErr{"08006"}, Unavailable},
		{&pgErr{"23505"}, Internal},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, Unavailable},
		{errors.New("plain"), Internal},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %v, want %v", tc.err, got, tc.want)
		}
		if !errors.Is(tc.err, tc.want) && tc.want != Internal {
			if _, ok := Explicit(tc.err); ok {
				t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.want)
			}
		}
	}
}

func TestPublic(t *testing.T) {
	err := fmt.Errorf("postgres: %w", retryErr{})
	if got := Public(err); got != "service unavailable: retry later" {
		t.Errorf("Public = %q", got)
	}
	e := Wrap(Upstream, "layer sha256:ab: the layer source answered 404 Not Found", errors.New("GET http://10.0.0.1/x: 404: secret body"))
	if got := Public(fmt.Errorf("index: %w", e)); got != "layer sha256:ab: the layer source answered 404 Not Found" {
		t.Errorf("Public = %q", got)
	}
	if e.Error() != "GET http://10.0.0.1/x: 404: secret body" {
		t.Errorf("Error = %q: the logs lose the cause", e.Error())
	}
}
