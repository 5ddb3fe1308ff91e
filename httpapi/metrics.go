package httpapi

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus metrics, on their own registry so
// that tests can run several servers in one process.
type Metrics struct {
	Registry *prometheus.Registry
	// Pprof serves /debug/pprof/ on the introspection handler; off unless
	// asked (profiles show the command line and the heap).
	Pprof bool

	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	IndexSeconds *prometheus.HistogramVec // by result
	MatchSeconds *prometheus.HistogramVec // by result
	LayersTotal  *prometheus.CounterVec   // by result
	LayerBytes   prometheus.Counter
	UpdaterRuns  *prometheus.CounterVec // by feed, result
	UpdaterLast  *prometheus.GaugeVec   // by feed: unix time of the last success
}

// NewMetrics registers the metrics (and the Go and process collectors).
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clair_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clair_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
		}, []string{"route", "method"}),
		IndexSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clair_index_duration_seconds", Help: "Time to index a manifest (cache misses only).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
		}, []string{"result"}),
		MatchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clair_match_duration_seconds", Help: "Time to match an index report against today's data.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"result"}),
		LayersTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clair_layers_fetched_total", Help: "Layers downloaded from layer URIs, by result.",
		}, []string{"result"}),
		LayerBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clair_layer_bytes_total", Help: "Bytes of layer blobs downloaded.",
		}),
		UpdaterRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clair_updater_runs_total", Help: "Feed update runs by feed and result (changed, unchanged, error).",
		}, []string{"feed", "result"}),
		UpdaterLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "clair_updater_last_success_timestamp_seconds", Help: "Unix time of each feed's last successful update check.",
		}, []string{"feed"}),
	}
	reg.MustRegister(m.requests, m.duration, m.IndexSeconds, m.MatchSeconds, m.LayersTotal, m.LayerBytes,
		m.UpdaterRuns, m.UpdaterLast,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) request(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// Observer returns a function for service.Indexer.Observe / Matcher.Observe.
func Observer(h *prometheus.HistogramVec) func(time.Duration, error) {
	return func(d time.Duration, err error) {
		res := "ok"
		if err != nil {
			res = "error"
		}
		h.WithLabelValues(res).Observe(d.Seconds())
	}
}

// Introspection serves /metrics, /healthz and /readyz. ready is asked on
// every /readyz (a store ping); nil means always ready.
func (m *Metrics) Introspection(ready func(r *http.Request) error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	// Profiles, as Clair serves them, when asked: the introspection
	// address is for operators, not for API clients.
	if m.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(r); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
