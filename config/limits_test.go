package config

import (
	"strings"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	c, err := Parse(strings.NewReader(`indexer:
  layer_read_concurrency: 8
  manifest_timeout: 5m
  layer_min_rate: 2048
  layer_rate_window: 10s
http:
  read_timeout: 30s
  max_connections: 100
  max_connections_per_ip: 10
auth:
  psk:
    key: c2VjcmV0
    max_lifetime: 2h
introspection_pprof: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Indexer.LayerReadConcurrency != 8 || time.Duration(c.Indexer.ManifestTimeout) != 5*time.Minute || c.Indexer.LayerMinRate != 2048 ||
		time.Duration(c.HTTP.ReadTimeout) != 30*time.Second || c.HTTP.MaxConnectionsPerIP != 10 ||
		time.Duration(c.Auth.PSK.MaxLifetime) != 2*time.Hour || !c.IntrospectionPprof {
		t.Errorf("parsed: %+v", c)
	}
	for _, bad := range []string{
		"indexer:\n  manifest_timeout: -1s\n",
		"http:\n  write_timeout: -5s\n",
		"http:\n  max_connections: -1\n",
		"http:\n  nope: 1\n",
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		} else if !strings.Contains(err.Error(), "http") && !strings.Contains(err.Error(), "indexer") {
			t.Errorf("%q: error %v does not name the key", bad, err)
		}
	}
}
