package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/openclair/clair/layerfetch"
	"github.com/openclair/clair/service"
	"github.com/openclair/clair/store"
)

// apiError is Clair v4's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeJSON writes v with status; encoding errors can only be logged, the
// header is gone.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
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
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusPreconditionFailed:
		return "precondition-failed"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusBadGateway:
		return "bad-gateway"
	}
	return "internal-error"
}

// apiFail writes a v4 error.
func apiFail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Code: codeFor(status), Message: msg})
}

// statusOf maps an error from the services to an HTTP status.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	var be *layerfetch.BlockedError
	var me *layerfetch.ManifestError
	switch {
	case errors.As(err, &be), errors.As(err, &me):
		// The manifest pointed somewhere the server will not go.
		return http.StatusBadRequest
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, service.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, service.ErrLayer):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// fail logs a server-side error once and writes it in Clair's shape.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := statusOf(err)
	lvl := slog.LevelInfo
	if st >= 500 {
		lvl = slog.LevelError
	}
	s.log().Log(r.Context(), lvl, "request failed", "method", r.Method, "path", r.URL.Path, "status", st, "err", err)
	apiFail(w, st, err.Error())
}
