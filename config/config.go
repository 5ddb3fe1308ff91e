// Package config is the server's configuration file: Clair v4's shape, so
// that an existing Clair config.yaml works unchanged. Keys Clair has and
// this server does not need are accepted and ignored; keys neither knows
// are an error that names them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole file.
type Config struct {
	HTTPListenAddr    string   `yaml:"http_listen_addr"`
	IntrospectionAddr string   `yaml:"introspection_addr"`
	LogLevel          string   `yaml:"log_level"`
	Indexer           Indexer  `yaml:"indexer"`
	Matcher           Matcher  `yaml:"matcher"`
	Matchers          Matchers `yaml:"matchers"`
	Updaters          Updaters `yaml:"updaters"`
	Notifier          Notifier `yaml:"notifier"`
	Auth              Auth     `yaml:"auth"`
	TLS               *TLS     `yaml:"tls"`
	Trace             any      `yaml:"trace"`   // Clair's tracing: accepted, not used
	Metrics           Metrics  `yaml:"metrics"` // Prometheus is always on the introspection address
	// HTTP bounds the API server's connections (see HTTP).
	HTTP HTTP `yaml:"http"`
	// IntrospectionPprof serves /debug/pprof/ on the introspection
	// address; off by default (profiles show memory and command lines).
	IntrospectionPprof bool `yaml:"introspection_pprof"`
}

// HTTP bounds the API server's connections so that slow or stalled
// clients cannot hold its sockets, file descriptors or memory. Zero values
// take the defaults below.
type HTTP struct {
	// ReadHeaderTimeout bounds reading a request's headers (10s).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included (1m).
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response (2m); a response still being
	// computed (indexing a large manifest) has its own deadline, the
	// manifest's.
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long (2m).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxConnections bounds the API's open connections (1024), and
	// MaxConnectionsPerIP those of one client address (64): past them new
	// connections wait (globally) or are closed (per address).
	MaxConnections      int `yaml:"max_connections"`
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
}

// Indexer configures the indexer service.
type Indexer struct {
	ConnString           string `yaml:"connstring"`
	ScanLockRetry        int    `yaml:"scanlock_retry"`
	LayerScanConcurrency int    `yaml:"layer_scan_concurrency"`
	Migrations           bool   `yaml:"migrations"`
	Airgap               bool   `yaml:"airgap"`
	// AllowPrivateNetworks lets layer URIs point at loopback, private and
	// link-local addresses; off, the indexer cannot be used as a proxy into
	// its own network.
	AllowPrivateNetworks          bool           `yaml:"allow_private_networks"`
	Scanner                       map[string]any `yaml:"scanner"`
	IndexReportRequestConcurrency int            `yaml:"index_report_request_concurrency"`
	// MaxLayerSize bounds a downloaded layer blob, in bytes (0: 16 GiB).
	MaxLayerSize int64 `yaml:"max_layer_size"`
	// Limits bound what indexing one layer and one image may cost (see
	// index.Options: 0 is the default, a negative value no limit).
	Limits IndexLimits `yaml:"limits"`
	// LayerReadConcurrency bounds the layers fetched and scanned at once
	// in the process, across all requests (0: 2 per CPU).
	LayerReadConcurrency int `yaml:"layer_read_concurrency"`
	// ManifestTimeout bounds indexing one manifest, all layers included
	// (0: 30m).
	ManifestTimeout Duration `yaml:"manifest_timeout"`
	// LayerMinRate is the fewest bytes a second a layer must arrive at,
	// averaged over LayerRateWindow, or its fetch ends (0: 1024; -1: off).
	LayerMinRate int64 `yaml:"layer_min_rate"`
	// LayerRateWindow is the span LayerMinRate is averaged over (0: 30s).
	LayerRateWindow Duration `yaml:"layer_rate_window"`
}

// Matcher configures the matcher service and the updaters it runs.
type Matcher struct {
	ConnString      string   `yaml:"connstring"`
	MaxConnPool     int      `yaml:"max_conn_pool"`
	IndexerAddr     string   `yaml:"indexer_addr"`
	Migrations      bool     `yaml:"migrations"`
	Period          Duration `yaml:"period"`
	DisableUpdaters bool     `yaml:"disable_updaters"`
	UpdateRetention int      `yaml:"update_retention"`
	CacheAge        Duration `yaml:"cache_age"`
}

// Matchers is Clair's matcher selection; accepted for compatibility.
type Matchers struct {
	Names  []string       `yaml:"names"`
	Config map[string]any `yaml:"config"`
}

// Updaters selects the feeds and overrides their settings.
type Updaters struct {
	// Sets names the feeds to run; nil runs them all, an empty list none.
	Sets   []string                 `yaml:"sets"`
	Config map[string]UpdaterConfig `yaml:"config"`
	Filter string                   `yaml:"filter"`
}

// UpdaterConfig is one feed's settings.
type UpdaterConfig struct {
	URL string `yaml:"url"`
	// Clair's per-updater keys (e.g. ubuntu's "url" list, rhel's
	// "ignore_unpatched") are accepted: the inline map keeps them.
	Extra map[string]any `yaml:",inline"`
}

// Notifier configures notifications.
type Notifier struct {
	ConnString       string   `yaml:"connstring"`
	Migrations       bool     `yaml:"migrations"`
	IndexerAddr      string   `yaml:"indexer_addr"`
	MatcherAddr      string   `yaml:"matcher_addr"`
	PollInterval     Duration `yaml:"poll_interval"`
	DeliveryInterval Duration `yaml:"delivery_interval"`
	DisableSummary   bool     `yaml:"disable_summary"`
	Webhook          *Webhook `yaml:"webhook"`
	AMQP             *AMQP    `yaml:"amqp"`
	STOMP            *STOMP   `yaml:"stomp"`
}

// Webhook delivers notifications by HTTP POST.
type Webhook struct {
	Target   string              `yaml:"target"`
	Callback string              `yaml:"callback"`
	Headers  map[string][]string `yaml:"headers"`
	Signed   bool                `yaml:"signed"`
}

// Auth configures request authentication.
type Auth struct {
	PSK *PSK `yaml:"psk"`
	// Clair's keyserver mode is gone from Clair itself; accepted and refused
	// in Validate so nobody believes it protects anything.
	Keyserver any `yaml:"keyserver"`
}

// PSK is a pre-shared HS256 key; Key is base64 as in Clair's config.
type PSK struct {
	Key    string   `yaml:"key"`
	Issuer []string `yaml:"iss"`
	// MaxLifetime refuses tokens whose exp is further than this past
	// their iat, or past now when they have no iat (0: 1h).
	MaxLifetime Duration `yaml:"max_lifetime"`
}

// TLS serves the API over TLS.
type TLS struct {
	Cert   string `yaml:"cert"`
	Key    string `yaml:"key"`
	RootCA string `yaml:"root_ca"`
}

// Metrics is Clair's metrics section.
type Metrics struct {
	Name       string         `yaml:"name"`
	Prometheus map[string]any `yaml:"prometheus"`
	DogStatsD  map[string]any `yaml:"dogstatsd"`
}

// Duration reads Clair's durations ("6h", "30m") and bare numbers of
// seconds.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	// Complaints are yaml.TypeErrors, so that the decoder goes on and
	// reports the rest of the file too.
	var s string
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a duration is a scalar (e.g. 6h, 30m, 90s)", n.Line)}}
	}
	if err := n.Decode(&s); err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		*d = 0
		return nil
	}
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	var secs int64
	if _, err := fmt.Sscanf(s, "%d", &secs); err == nil && fmt.Sprint(secs) == s {
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (e.g. 6h, 30m, 90s)", n.Line, s)}}
}

// Defaults as Clair has them.
const (
	DefaultHTTPListenAddr = ":6060"
	// DefaultIntrospectionAddr is loopback: metrics and probes are for
	// the operator's host, and the API's authentication does not cover
	// them. Deployments that need them on the network (Kubernetes probes)
	// say so.
	DefaultIntrospectionAddr = "127.0.0.1:8089"
	DefaultPeriod            = 6 * time.Hour
	DefaultUpdateRetention   = 10
	DefaultLayerConcurrency  = 10
)

// Load reads and validates the file at path, then applies the environment
// overrides (see Environ).
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			// One problem a line, the file named once above them.
			return nil, fmt.Errorf("config: %s:\n%w", path, err)
		}
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a config, with defaults and environment overrides applied
// and validated. Unknown keys are an error naming the key and its line.
func Parse(r io.Reader) (*Config, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return nil, err
	}
	c := &Config{}
	var decodeErr error
	if len(bytes.TrimSpace(b)) > 0 {
		var partial bool
		if partial, decodeErr = decodeStrict(b, c, "", true); decodeErr != nil && !partial {
			return nil, decodeErr
		}
	}
	c.applyEnv(os.LookupEnv)
	c.defaults()
	// The decoder's complaints and the sections' together: every problem
	// of the file at once.
	if err := errors.Join(decodeErr, c.Validate()); err != nil {
		return nil, err
	}
	return c, nil
}

// Environment overrides, so that secrets need not sit in the file.
const (
	EnvIndexerConn  = "CLAIR_INDEXER_CONNSTRING"
	EnvMatcherConn  = "CLAIR_MATCHER_CONNSTRING"
	EnvNotifierConn = "CLAIR_NOTIFIER_CONNSTRING"
	EnvPSKKey       = "CLAIR_AUTH_PSK_KEY"
	EnvPSKIssuer    = "CLAIR_AUTH_PSK_ISS" // comma-separated
	// EnvDatabaseURL is the seeds' single database setting: the connection
	// string of every section whose own is not set (by the file or by the
	// variables above).
	EnvDatabaseURL = "CLAIR_DATABASE_URL"
)

func (c *Config) applyEnv(lookup func(string) (string, bool)) {
	if v, ok := lookup(EnvDatabaseURL); ok && v != "" {
		for _, cs := range []*string{&c.Indexer.ConnString, &c.Matcher.ConnString, &c.Notifier.ConnString} {
			if *cs == "" {
				*cs = v
			}
		}
	}
	if v, ok := lookup(EnvIndexerConn); ok {
		c.Indexer.ConnString = v
	}
	if v, ok := lookup(EnvMatcherConn); ok {
		c.Matcher.ConnString = v
	}
	if v, ok := lookup(EnvNotifierConn); ok {
		c.Notifier.ConnString = v
	}
	if v, ok := lookup(EnvPSKKey); ok && v != "" {
		if c.Auth.PSK == nil {
			c.Auth.PSK = &PSK{}
		}
		c.Auth.PSK.Key = v
	}
	if v, ok := lookup(EnvPSKIssuer); ok && v != "" {
		if c.Auth.PSK == nil {
			c.Auth.PSK = &PSK{}
		}
		c.Auth.PSK.Issuer = strings.Split(v, ",")
	}
}

func (c *Config) defaults() {
	if c.HTTPListenAddr == "" {
		c.HTTPListenAddr = DefaultHTTPListenAddr
	}
	if c.IntrospectionAddr == "" {
		c.IntrospectionAddr = DefaultIntrospectionAddr
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Indexer.LayerScanConcurrency <= 0 {
		c.Indexer.LayerScanConcurrency = DefaultLayerConcurrency
	}
	if c.Matcher.Period <= 0 {
		c.Matcher.Period = Duration(DefaultPeriod)
	}
	if c.Matcher.UpdateRetention <= 0 {
		c.Matcher.UpdateRetention = DefaultUpdateRetention
	}
	// One database for everything unless the sections say otherwise, as
	// most deployments have it.
	if c.Matcher.ConnString == "" {
		c.Matcher.ConnString = c.Indexer.ConnString
	}
	if c.Notifier.ConnString == "" {
		c.Notifier.ConnString = c.Indexer.ConnString
	}
}

// SlogLevel maps Clair's level names onto slog's levels.
func (c *Config) SlogLevel() (lvl int) {
	switch strings.ToLower(c.LogLevel) {
	case "debug", "debug-color":
		return -4
	case "warn", "warning":
		return 4
	case "error", "fatal", "panic":
		return 8
	}
	return 0
}

// IndexLimits are the indexer's bounds on hostile layers, in bytes and
// counts; zero keeps index.Options' default, a negative value lifts it.
type IndexLimits struct {
	MaxFileBytes     int64  `yaml:"max_file_bytes"`
	MaxLayerBytes    int64  `yaml:"max_layer_bytes"`
	MaxImageBytes    int64  `yaml:"max_image_bytes"`
	MaxLayerPackages int    `yaml:"max_layer_packages"`
	MaxReportBytes   int64  `yaml:"max_report_bytes"`
	MaxLayerFiles    int    `yaml:"max_layer_files"`
	MemFileBytes     int64  `yaml:"mem_file_bytes"`
	TempDir          string `yaml:"temp_dir"`
}
