// Package httpapi serves Clair's HTTP APIs: the v4 indexer/matcher API, the
// classic /v1 (and /api/v1) layer API, health, and on a separate
// introspection address Prometheus metrics and readiness probes.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/openclair/clair/service"
	"github.com/openclair/clair/vuln"
)

// Mode says which services a server runs, as Clair's -mode does.
type Mode string

// Modes.
const (
	ModeCombo    Mode = "combo"
	ModeIndexer  Mode = "indexer"
	ModeMatcher  Mode = "matcher"
	ModeNotifier Mode = "notifier"
)

// DefaultMaxBody bounds request bodies: a manifest of a thousand layers
// with their headers is well under it.
const DefaultMaxBody = 4 << 20

// Server routes the APIs to the services.
type Server struct {
	Mode    Mode
	Indexer IndexerService // nil in matcher mode
	Matcher MatcherService // nil in indexer mode
	// Updates serves the update_operation and update_diff endpoints; nil
	// answers them with 404.
	Updates UpdateStore
	// Classic serves the /v1 layer API (needs Indexer and Matcher); nil
	// leaves it out.
	Classic *Classic
	// Notifications serves the notifier API (v4) and the classic
	// /v1/notifications; nil leaves them out.
	Notifications NotificationStore
	// Auth wraps every API route when set (PSK JWT); health is left open.
	Auth func(http.Handler) http.Handler
	// Authenticate, when set, checks every API route's request instead
	// of Auth, and its refusal is a 401 in the route's own error shape
	// (classic routes answer {"Error":{"Message"}}). Reason gives the
	// message a client may read.
	Authenticate func(*http.Request) error
	Reason       func(error) string
	Metrics      *Metrics
	MaxBody      int64
	Log          *slog.Logger
	// CacheAge is the max-age of the Cache-Control header on
	// vulnerability reports (Clair's matcher.cache_age; 0 sends max-age=0).
	CacheAge time.Duration

	// UI serves the web page at /ui/ behind the API's auth; nil leaves it
	// out.
	UI *UI
}

// IndexerService is what the indexer routes call (service.Indexer).
type IndexerService interface {
	State() string
	Index(ctx context.Context, m *vuln.Manifest) (r *vuln.IndexReport, created bool, err error)
	Report(ctx context.Context, manifest string) (*vuln.IndexReport, error)
	Delete(ctx context.Context, manifests []string) ([]string, error)
}

// MatcherService is what the matcher routes call (service.Matcher).
type MatcherService interface {
	ReportJSON(ctx context.Context, manifest string) (*service.Encoded, error)
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// route is one path pattern and its handlers by method.
type route struct {
	pattern string
	methods map[string]http.HandlerFunc
}

// Handler returns the API handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	var routes []route
	if s.Indexer != nil {
		routes = append(routes, s.indexerRoutes()...)
	}
	if s.Matcher != nil {
		routes = append(routes, s.matcherRoutes()...)
	}
	if s.Classic != nil {
		s.Classic.srv = s
		for _, prefix := range []string{"/v1", "/api/v1"} {
			routes = append(routes, s.Classic.routes(prefix)...)
		}
	}
	if s.Notifications != nil {
		routes = append(routes, s.notifierRoutes()...)
	}
	routes = append(routes, route{"/openapi/v1", map[string]http.HandlerFunc{http.MethodGet: s.openAPI}})
	if s.UI != nil {
		routes = append(routes, s.UI.routes()...)
	}
	if s.Classic != nil {
		// Every /v1 answer is in the classic shape, unknown routes too.
		for _, prefix := range []string{"/v1/", "/api/v1/"} {
			mux.Handle(prefix, s.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				v1Fail(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
			})))
		}
	}
	for _, rt := range routes {
		fail := apiFail
		if strings.HasPrefix(rt.pattern, "/v1/") || strings.HasPrefix(rt.pattern, "/api/v1/") {
			fail = v1Fail
		}
		var h http.Handler = methodsFail(rt.methods, fail)
		if s.Authenticate != nil {
			h = s.authenticate(h, fail)
		} else if s.Auth != nil {
			h = s.Auth(h)
		}
		mux.Handle(rt.pattern, s.instrument(rt.pattern, h))
	}
	mux.Handle("/health", s.instrument("/health", methods(map[string]http.HandlerFunc{
		http.MethodGet: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) },
	})))
	mux.Handle("/", s.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiFail(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})))
	return withRequestID(s.recoverer(s.limitBody(mux)))
}

// methods dispatches on the method, answering others with 405 in Clair's
// error shape (ServeMux's own 405 is plain text).
func methods(m map[string]http.HandlerFunc) http.Handler {
	return methodsFail(m, apiFail)
}

// methodsFail is methods answering in the error shape of fail.
func methodsFail(m map[string]http.HandlerFunc, fail func(http.ResponseWriter, int, string)) http.Handler {
	var allow []string
	for k := range m {
		allow = append(allow, k)
	}
	if _, ok := m[http.MethodGet]; ok {
		allow = append(allow, http.MethodHead)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meth := r.Method
		if meth == http.MethodHead {
			meth = http.MethodGet
		}
		h, ok := m[meth]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			fail(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
			return
		}
		h(w, r)
	})
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	max := s.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			s.failFor(r)(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// recoverer keeps one bad request from taking the server down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log().Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.failFor(r)(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if s.Metrics != nil {
			s.Metrics.request(route, r.Method, sw.status, time.Since(start))
		}
	})
}

// authenticate refuses requests Authenticate refuses, with a 401 in the
// route's error shape and the bearer scheme named (RFC 6750 §3).
func (s *Server) authenticate(next http.Handler, fail func(http.ResponseWriter, int, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Authenticate(r); err != nil {
			msg := "unauthorized"
			if s.Reason != nil {
				msg = s.Reason(err)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="clair", error="invalid_token"`)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			fail(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// failFor is the error writer of the request's API: the classic shape
// under /v1 and /api/v1 when the classic API is served, v4's otherwise.
func (s *Server) failFor(r *http.Request) func(http.ResponseWriter, int, string) {
	if s.Classic != nil && (strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/api/v1/")) {
		return v1Fail
	}
	return apiFail
}
