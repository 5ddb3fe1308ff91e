package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/openclair/clair/errkind"
)

// apiError is Clair v4's error body, with the request's id so that an
// operator can find the logged cause.
type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// writeJSON writes v with status; encoding errors can only be logged, the
// header is gone.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, status, "application/json", v)
}

// writeJSONAs is writeJSON with another media type.
func writeJSONAs(w http.ResponseWriter, status int, ctype string, v any) {
	if w.Header().Get(longWorkHeader) != "" {
		w.Header().Del(longWorkHeader)
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeAfterWork))
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad-request"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusPreconditionFailed:
		return "precondition-failed"
	case http.StatusUnprocessableEntity:
		return "unprocessable"
	case http.StatusTooManyRequests:
		return "too-many-requests"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusBadGateway:
		return "bad-gateway"
	case http.StatusGatewayTimeout:
		return "timeout"
	case statusClientClosed:
		return "client-closed-request"
	}
	return "internal-error"
}

// statusClientClosed is nginx's 499: the client went away. Nobody reads
// it; it is what the metrics and the log say.
const statusClientClosed = 499

// retryAfter is what 503 and 429 tell clients to wait, in seconds.
const retryAfter = 5

// apiFail writes a v4 error.
func apiFail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Code: codeFor(status), Message: msg, RequestID: w.Header().Get(requestIDHeader)})
}

// statusOf maps an error's kind, and nothing else, to an HTTP status.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch errkind.Of(err) {
	case errkind.Invalid:
		return http.StatusBadRequest
	case errkind.NotFound:
		return http.StatusNotFound
	case errkind.Conflict:
		return http.StatusConflict
	case errkind.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errkind.BadContent:
		return http.StatusUnprocessableEntity
	case errkind.Upstream:
		return http.StatusBadGateway
	case errkind.Unavailable:
		return http.StatusServiceUnavailable
	case errkind.Timeout:
		return http.StatusGatewayTimeout
	case errkind.Canceled:
		return statusClientClosed
	case errkind.Busy:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// failure logs err with its request id (at ERROR only when the server is
// at fault) and returns the status and the public message to answer with.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	st := statusOf(err)
	// A client gone is not the server's error, whatever the error
	// chain says (the store's query canceled, a layer read cut).
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		st = statusClientClosed
	}
	lvl := slog.LevelInfo
	switch {
	case st == statusClientClosed:
		lvl = slog.LevelDebug
	case st >= 500:
		lvl = slog.LevelError
	}
	if st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		if st == http.StatusServiceUnavailable {
			lvl = slog.LevelWarn
		}
	}
	s.log().Log(r.Context(), lvl, "request failed", "method", r.Method, "path", r.URL.Path, "status", st,
		"request_id", w.Header().Get(requestIDHeader), "err", err)
	msg := errkind.Public(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		msg = "request body over the limit of " + strconv.FormatInt(mbe.Limit, 10) + " bytes"
	}
	return st, msg
}

// fail answers a v4 request with err's status and public message.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	st, msg := s.failure(w, r, err)
	apiFail(w, st, msg)
}

// requestIDHeader carries each request's id: the client's when it sent a
// sane one, else a new one.
const requestIDHeader = "X-Request-Id"

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// withRequestID sets the response's request id before anything else runs.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r)
	})
}

// badBody is a request body that does not decode: too large, or the
// client's malformed JSON (whose decoder message quotes only the body).
func badBody(what string, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return errkind.Wrap(errkind.Invalid, what+": "+err.Error(), err)
}
