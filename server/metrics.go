package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openclair/clair/httpapi"
	"github.com/openclair/clair/store"
)

func registerStoreMetrics(m *httpapi.Metrics, st store.Store) {
	p, ok := st.(store.PoolStater)
	if !ok {
		return
	}
	for i, name := range []string{"acquired", "idle", "total", "max"} {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "clair_store_pool_connections",
			Help:        "PostgreSQL pool connections by state.",
			ConstLabels: prometheus.Labels{"state": name},
		}, func() float64 {
			a, idle, t, mx := p.PoolStats()
			return float64([]int32{a, idle, t, mx}[i])
		}))
	}
}
