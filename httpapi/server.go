// Package httpapi serves Clair's HTTP APIs: the v4 indexer/matcher API, the
// classic /v1 (and /api/v1) layer API, health, and on a separate
// introspection address Prometheus metrics and readiness probes.
package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/openclair/clair/service"
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
	Indexer *service.Indexer // nil in matcher mode
	Matcher *service.Matcher // nil in indexer mode
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
	Auth    func(http.Handler) http.Handler
	Metrics *Metrics
	MaxBody int64
	Log     *slog.Logger
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
		for _, prefix := range []string{"/v1", "/api/v1"} {
			routes = append(routes, s.Classic.routes(prefix)...)
		}
	}
	if s.Notifications != nil {
		routes = append(routes, s.notifierRoutes()...)
	}
	routes = append(routes, route{"/openapi/v1", map[string]http.HandlerFunc{http.MethodGet: s.openAPI}})
	for _, rt := range routes {
		var h http.Handler = methods(rt.methods)
		if s.Auth != nil {
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
	return s.recoverer(s.limitBody(mux))
}

// methods dispatches on the method, answering others with 405 in Clair's
// error shape (ServeMux's own 405 is plain text).
func methods(m map[string]http.HandlerFunc) http.Handler {
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
			apiFail(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
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
			apiFail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, max))
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
				apiFail(w, http.StatusInternalServerError, "internal error")
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
