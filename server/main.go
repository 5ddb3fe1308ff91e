// Package server is the clair server: Clair's indexer, matcher, notifier and
// classic APIs over one store, with the feeds updated in the background.
// cmd/clair is a thin main over it:
//
//	clair -config config.yaml [-mode combo|indexer|matcher|notifier]
//
// Like Clair's Boot, it serves whatever scanners, feeds and version schemes
// are registered when it starts, so a custom binary with its own plugins is
// a main.go of three imports and one call:
//
//	import (
//		"github.com/openclair/clair/server"
//		_ "github.com/openclair/clair/plugins" // what the official binaries ship
//		_ "example.com/you/yourfeed"           // registers itself in init()
//	)
//
//	func main() { server.Main() }
//
// Boot starts it from a *config.Config built by other means.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/config"
	"github.com/openclair/clair/httpapi"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/layerfetch"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/netlimit"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/plugins/registered"
	"github.com/openclair/clair/service"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/connect"
	"github.com/openclair/clair/updater"
)

// Main runs the server with os.Args (-config, -mode, -version, -h) until
// SIGINT or SIGTERM, and exits non-zero with one slog JSON line on stderr
// when it cannot start or stops on an error; -h and -version exit 0.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the usage was asked for, and printed
	}
	if err != nil {
		// In slog's JSON like every other line the server writes, so that
		// log collectors parse the reason it stopped too.
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("clair stopped", "error", err.Error())
		os.Exit(1)
	}
}

// Run is Main without the process: it parses args (without the program
// name), loads the config and serves until ctx is done.
func Run(ctx context.Context, args []string, stderr io.Writer) error {
	return run(ctx, args, stderr, nil)
}

// Options are what Boot needs besides the config.
type Options struct {
	// Mode is what to run; empty is combo.
	Mode httpapi.Mode
	// Log receives the server's logs; nil logs JSON to stderr at the
	// config's log_level.
	Log *slog.Logger
	// Ready, when set, is told the listeners' addresses once they are open
	// (listen on port 0 and learn the ports).
	Ready func(api, introspection string)
}

// Boot serves cfg with the registered plugins until ctx is done. cfg is
// validated first (config.Parse's defaults are not applied: build it with
// Parse, or set what Parse would), so that every check of the file lives
// in package config.
func Boot(ctx context.Context, cfg *config.Config, opts Options) error {
	mode := opts.Mode
	if mode == "" {
		mode = httpapi.ModeCombo
	}
	if err := checkMode(mode); err != nil {
		return fmt.Errorf("mode %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.Level(cfg.SlogLevel())}))
	}
	for _, p := range registered.List() {
		log.Info("plugin registered", "kind", p.Kind, "name", p.Name, "version", p.Version, "detail", p.Detail)
	}
	srv, cleanup, err := build(ctx, cfg, mode, log)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		return err
	}
	return serve(ctx, cfg, srv, log, opts.Ready)
}

// run serves until ctx is done. ready, when set, is told the listeners'
// addresses once they are open (tests listen on port 0).
func run(ctx context.Context, args []string, stderr io.Writer, ready func(api, introspection string)) error {
	fs := flag.NewFlagSet("clair", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", os.Getenv("CLAIR_CONF"), "configuration file (env CLAIR_CONF)")
	modeFlag := fs.String("mode", envOr("CLAIR_MODE", "combo"), "what to run: combo, indexer, matcher or notifier (env CLAIR_MODE)")
	showVersion := fs.Bool("version", false, "print the version (on stderr) and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stderr, "clair", buildVersion())
		return nil
	}
	mode := httpapi.Mode(strings.ToLower(*modeFlag))
	if err := checkMode(mode); err != nil {
		return fmt.Errorf("-mode %w", err)
	}
	var cfg *config.Config
	var err error
	if *cfgPath == "" {
		cfg, err = config.Parse(strings.NewReader(""))
	} else {
		cfg, err = config.Load(*cfgPath)
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.Level(cfg.SlogLevel())}))
	slog.SetDefault(log)
	return Boot(ctx, cfg, Options{Mode: mode, Log: log, Ready: ready})
}

// checkMode is the one check of -mode (CLAIR_MODE, Options.Mode): it is
// the command line's, not the file's, so it lives here and not in config.
func checkMode(m httpapi.Mode) error {
	switch m {
	case httpapi.ModeCombo, httpapi.ModeIndexer, httpapi.ModeMatcher, httpapi.ModeNotifier:
		return nil
	}
	return fmt.Errorf("%q: want combo, indexer, matcher or notifier", string(m))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// server is what build wires: the API handler, the introspection handler
// and the background jobs.
type server struct {
	api           http.Handler
	introspection http.Handler
	background    []func(ctx context.Context)
}

func build(ctx context.Context, cfg *config.Config, mode httpapi.Mode, log *slog.Logger) (*server, func(), error) {
	metrics := httpapi.NewMetrics()
	metrics.Pprof = cfg.IntrospectionPprof
	stores := map[string]store.Store{}
	cleanup := func() {
		for _, s := range stores {
			s.Close()
		}
	}
	open := func(conn string) (store.Store, error) {
		if s, ok := stores[conn]; ok {
			return s, nil
		}
		s, err := connect.Open(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", connect.Kind(conn), err)
		}
		log.Info("store opened", "kind", connect.Kind(conn), "at", connect.Redacted(conn))
		stores[conn] = s
		return s, nil
	}
	hs := &httpapi.Server{Mode: mode, Metrics: metrics, Log: log}
	if p := cfg.Auth.PSK; p != nil {
		key, err := auth.DecodeKey(p.Key)
		if err != nil {
			return nil, cleanup, fmt.Errorf("auth.psk.key: %w", err)
		}
		psk := &auth.PSK{Key: key, Issuers: p.Issuer, MaxLifetime: time.Duration(p.MaxLifetime)}
		hs.Authenticate, hs.Reason = psk.Authenticate, auth.Reason
	}
	s := &server{}
	var readyStores []store.Store
	var indexer *service.Indexer
	// ready also waits for these feeds to have data (the updaters run
	// here), in feedStore.
	var readyFeeds []string
	var feedStore service.FeedStater
	var roundNow func(context.Context) []updater.Result

	fetcher := &layerfetch.Fetcher{
		AllowPrivate: cfg.Indexer.AllowPrivateNetworks,
		MaxSize:      cfg.Indexer.MaxLayerSize,
		MinRate:      cfg.Indexer.LayerMinRate,
		RateWindow:   time.Duration(cfg.Indexer.LayerRateWindow),
		Stats: layerfetch.StatsFunc(func(n int64, err error) {
			res := "ok"
			if err != nil {
				res = "error"
			}
			metrics.LayersTotal.WithLabelValues(res).Inc()
			metrics.LayerBytes.Add(float64(n))
		}),
	}
	scanners, warnings, err := cfg.Scanners()
	if err != nil {
		return nil, cleanup, err
	}
	for _, w := range warnings {
		log.Warn("config: " + w)
	}
	lim := cfg.Indexer.Limits
	ix := &index.Indexer{Scanners: scanners, Concurrency: cfg.Indexer.LayerScanConcurrency, Options: index.Options{
		MaxFileBytes: lim.MaxFileBytes, MaxLayerBytes: lim.MaxLayerBytes, MaxImageBytes: lim.MaxImageBytes,
		MaxLayerPackages: lim.MaxLayerPackages, MaxReportBytes: lim.MaxReportBytes, MaxLayerFiles: lim.MaxLayerFiles,
		MemFileBytes: lim.MemFileBytes, TempDir: lim.TempDir,
	}}

	if mode == httpapi.ModeCombo || mode == httpapi.ModeIndexer {
		st, err := open(cfg.Indexer.ConnString)
		if err != nil {
			return nil, cleanup, err
		}
		readyStores = append(readyStores, st)
		ix.Store = st
		ix.Gate = (&service.LayerGate{Locks: st, Max: cfg.Indexer.LayerReadConcurrency}).Run
		indexer = &service.Indexer{Store: st, Fetcher: fetcher, Indexer: ix, Log: log,
			Observe:     httpapi.Observer(metrics.IndexSeconds),
			Concurrency: cfg.Indexer.IndexReportRequestConcurrency,
			Timeout:     time.Duration(cfg.Indexer.ManifestTimeout)}
		hs.Indexer = indexer
	}
	if mode == httpapi.ModeCombo || mode == httpapi.ModeMatcher {
		st, err := open(cfg.Matcher.ConnString)
		if err != nil {
			return nil, cleanup, err
		}
		readyStores = append(readyStores, st)
		m := &match.Matcher{Store: st, Logger: log}
		var reports service.ReportSource = st
		if mode == httpapi.ModeMatcher && cfg.Matcher.IndexerAddr != "" && cfg.Matcher.ConnString != cfg.Indexer.ConnString {
			reports = &service.RemoteReports{Base: cfg.Matcher.IndexerAddr, Client: &http.Client{Timeout: time.Minute}, Sign: signer(cfg)}
		}
		matcher := &service.Matcher{Reports: reports, Match: m, Feeds: st, Observe: httpapi.Observer(metrics.MatchSeconds)}
		hs.Matcher = matcher
		hs.Updates = &service.Updates{Store: st}
		// The web page, behind the same auth as the API.
		hs.UI = &httpapi.UI{Matcher: matcher, Feeds: st, Errors: &httpapi.FeedErrors{}}
		hs.UI.Manifests = st
		if ns, ok := st.(notify.Store); ok {
			hs.UI.Notifications = notify.Recent{Store: ns}
		}
		// Clair's default for cache_age is the update period.
		hs.CacheAge = time.Duration(cfg.Matcher.CacheAge)
		if hs.CacheAge <= 0 {
			hs.CacheAge = time.Duration(cfg.Matcher.Period)
		}
		if mode == httpapi.ModeCombo {
			hs.Classic = &httpapi.Classic{Indexer: indexer, Matcher: matcher, Namespaces: st}
		}
		if !cfg.Matcher.DisableUpdaters {
			feeds, urls, warnings, err := cfg.Feeds(os.LookupEnv)
			if err != nil {
				return nil, cleanup, err
			}
			for _, w := range warnings {
				log.Warn("config: " + w)
			}
			for _, f := range feeds {
				readyFeeds = append(readyFeeds, f.Name())
			}
			feedStore = st
			sch := &updater.Scheduler{
				Updater:   &updater.Updater{Store: st, URLs: urls, Log: log},
				Locks:     st,
				Feeds:     feeds,
				Period:    time.Duration(cfg.Matcher.Period),
				Retention: cfg.Matcher.UpdateRetention,
				GC:        st.GC,
				Log:       log,
				OnResult: func(r updater.Result) {
					hs.UI.Errors.Observe(r.Feed, r.Err)
					switch {
					case r.Err != nil:
						metrics.UpdaterRuns.WithLabelValues(r.Feed, "error").Inc()
					case r.Changed:
						metrics.UpdaterRuns.WithLabelValues(r.Feed, "changed").Inc()
						metrics.UpdaterLast.WithLabelValues(r.Feed).SetToCurrentTime()
					default:
						metrics.UpdaterRuns.WithLabelValues(r.Feed, "unchanged").Inc()
						metrics.UpdaterLast.WithLabelValues(r.Feed).SetToCurrentTime()
					}
				},
			}
			s.background = append(s.background, sch.Run)
			roundNow = sch.Round
		}
		if hs.Classic != nil {
			hs.Classic.Database = &service.Database{States: st, Feeds: readyFeeds, Round: roundNow}
		}
	}
	if mode == httpapi.ModeCombo || mode == httpapi.ModeNotifier {
		st, err := open(cfg.Notifier.ConnString)
		if err != nil {
			return nil, cleanup, err
		}
		readyStores = append(readyStores, st)
		n, err := notifier(ctx, cfg, st, log)
		if err != nil {
			return nil, cleanup, err
		}
		hs.Notifications = n.Store
		s.background = append(s.background, func(ctx context.Context) { _ = n.Run(ctx) })
	}
	for _, st := range stores {
		registerStoreMetrics(metrics, st)
	}
	s.api = hs.Handler()
	s.introspection = metrics.Introspection(func(r *http.Request) error {
		for _, st := range readyStores {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			err := st.Ping(ctx)
			cancel()
			if err != nil {
				return err
			}
		}
		if feedStore != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			return service.FeedsReady(ctx, feedStore, readyFeeds)
		}
		return nil
	})
	return s, cleanup, nil
}

// Defaults for config.HTTP's zero fields.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxConnections    = 1024
)

func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDur(v config.Duration, def time.Duration) time.Duration {
	if v > 0 {
		return time.Duration(v)
	}
	return def
}

func signer(cfg *config.Config) func() (string, error) {
	p := cfg.Auth.PSK
	if p == nil {
		return nil
	}
	return func() (string, error) {
		key, err := auth.DecodeKey(p.Key)
		if err != nil {
			return "", err
		}
		iss := "clair"
		if len(p.Issuer) > 0 {
			iss = p.Issuer[0]
		}
		return auth.Sign(key, iss, 5*time.Minute)
	}
}

func serve(ctx context.Context, cfg *config.Config, s *server, log *slog.Logger, ready func(api, introspection string)) error {
	apiLn, err := net.Listen("tcp", cfg.HTTPListenAddr)
	if err != nil {
		return fmt.Errorf("http_listen_addr: %w", err)
	}
	inLn, err := net.Listen("tcp", cfg.IntrospectionAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("introspection_addr: %w", err)
	}
	h := cfg.HTTP
	apiLn = netlimit.Listener(apiLn, or(h.MaxConnections, DefaultMaxConnections), h.MaxConnectionsPerIP)
	api := &http.Server{Handler: s.api,
		ReadHeaderTimeout: orDur(h.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       orDur(h.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      orDur(h.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       orDur(h.IdleTimeout, DefaultIdleTimeout),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	intro := &http.Server{Handler: s.introspection, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	if t := cfg.TLS; t != nil {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			apiLn.Close()
			inLn.Close()
			return fmt.Errorf("tls: %w", err)
		}
		api.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		apiLn = tls.NewListener(apiLn, api.TLSConfig)
	}
	bg, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	for _, job := range s.background {
		go job(bg)
	}
	errc := make(chan error, 2)
	go func() { errc <- api.Serve(apiLn) }()
	go func() { errc <- intro.Serve(inLn) }()
	log.Info("serving", "api", apiLn.Addr().String(), "introspection", inLn.Addr().String(), "tls", cfg.TLS != nil)
	if ready != nil {
		ready(apiLn.Addr().String(), inLn.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	}
	sd, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cancelBG()
	_ = intro.Shutdown(sd)
	return api.Shutdown(sd)
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
