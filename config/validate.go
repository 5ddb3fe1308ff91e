package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/feed"
)

// Validation is one method per section, each given the key path it sits at
// (a TLS section sits at tls, notifier.amqp.tls and notifier.stomp.tls) and
// reporting every problem it finds; Config.Validate joins them all, so that
// a file with five mistakes takes one edit, not five restarts.

// KeyError is one problem with one key of the file.
type KeyError struct {
	// Key is the key's path in the file: "indexer.max_layer_size",
	// "notifier.amqp.uris[0]".
	Key string
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

// problems collects a section's KeyErrors.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &KeyError{Key: key, Err: fmt.Errorf(format, args...)})
}

// wrap adds err, already formatted by a helper, under key.
func (p *problems) wrap(key string, err error) {
	if err != nil {
		*p = append(*p, &KeyError{Key: key, Err: err})
	}
}

// join adds the problems of a subsection's validate (nil adds none).
func (p *problems) join(err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		*p = append(*p, j.Unwrap()...)
		return
	}
	*p = append(*p, err)
}

func (p problems) err() error { return errors.Join(p...) }

func (p *problems) notNegative(key string, d Duration) {
	if d < 0 {
		p.add(key, "%s is negative", time.Duration(d))
	}
}

func (p *problems) notNegativeInt(key string, n int64) {
	if n < 0 {
		p.add(key, "%d is negative", n)
	}
}

// Validate checks what the decoder cannot, section by section, and
// reports every problem at once (errors.Join of KeyErrors).
func (c *Config) Validate() error {
	var p problems
	switch strings.ToLower(c.LogLevel) {
	case "debug", "debug-color", "info", "warn", "warning", "error", "fatal", "panic":
	default:
		p.add("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	p.wrap("http_listen_addr", listenAddr(c.HTTPListenAddr))
	p.wrap("introspection_addr", listenAddr(c.IntrospectionAddr))
	p.join(c.Indexer.validate("indexer"))
	p.join(c.Matcher.validate("matcher"))
	p.join(c.Updaters.validate("updaters"))
	p.join(c.Notifier.validate("notifier", c.Auth.PSK != nil))
	p.join(c.Auth.validate("auth"))
	if c.TLS != nil {
		p.join(c.TLS.validate("tls", true))
	}
	p.join(c.HTTP.validate("http"))
	return p.err()
}

func (ix *Indexer) validate(at string) error {
	var p problems
	p.notNegativeInt(at+".max_layer_size", ix.MaxLayerSize)
	p.notNegativeInt(at+".layer_read_concurrency", int64(ix.LayerReadConcurrency))
	p.notNegative(at+".manifest_timeout", ix.ManifestTimeout)
	p.notNegative(at+".layer_rate_window", ix.LayerRateWindow)
	return p.err()
}

func (m *Matcher) validate(at string) error {
	var p problems
	if m.Period < Duration(time.Minute) {
		p.add(at+".period", "%s is too short (at least 1m)", time.Duration(m.Period))
	}
	p.notNegative(at+".cache_age", m.CacheAge)
	p.notNegativeInt(at+".max_conn_pool", int64(m.MaxConnPool))
	if m.IndexerAddr != "" {
		p.wrap(at+".indexer_addr", httpURL(m.IndexerAddr))
	}
	return p.err()
}

// validate checks the feeds' URL overrides; which feeds updaters.sets
// names is checked by Feeds, against the feeds the binary registered.
func (u *Updaters) validate(at string) error {
	var p problems
	names := make([]string, 0, len(u.Config))
	for name := range u.Config {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if s := u.Config[name].URL; s != "" {
			p.wrap(at+".config."+name+".url", feedURL(s))
		}
	}
	return p.err()
}

// feedURL accepts what the feeds fetch from: http(s) URLs, file:// URLs
// and absolute paths.
func feedURL(s string) error {
	if _, ok := feed.FilePath(s); ok {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Redacted: a mirror's URL may carry its password.
		return fmt.Errorf("%q is not an http(s) or file:// URL or an absolute path", u.Redacted())
	}
	return nil
}

// validate checks the notifier's section: its intervals, and its delivery
// sections, at most one of them, each with what it cannot deliver
// without. signing says whether auth.psk is there to sign webhooks with.
func (n *Notifier) validate(at string, signing bool) error {
	var p problems
	p.notNegative(at+".poll_interval", n.PollInterval)
	p.notNegative(at+".delivery_interval", n.DeliveryInterval)
	var set []string
	if n.Webhook != nil {
		set = append(set, "webhook")
		p.join(n.Webhook.validate(at+".webhook", signing))
	}
	if n.AMQP != nil {
		set = append(set, "amqp")
		p.join(n.AMQP.validate(at + ".amqp"))
	}
	if n.STOMP != nil {
		set = append(set, "stomp")
		p.join(n.STOMP.validate(at + ".stomp"))
	}
	if len(set) > 1 {
		p.add(at, "%s are all configured; configure one delivery mechanism", strings.Join(set, ", "))
	}
	return p.err()
}

func (w *Webhook) validate(at string, signing bool) error {
	var p problems
	p.wrap(at+".target", httpURL(w.Target))
	if w.Callback != "" {
		p.wrap(at+".callback", httpURL(w.Callback))
	}
	if w.Signed && !signing {
		p.add(at+".signed", "needs auth.psk (the key the webhook is signed with)")
	}
	return p.err()
}

func (a *AMQP) validate(at string) error {
	var p problems
	if len(a.URIs) == 0 {
		p.add(at+".uris", "at least one broker URI is needed")
	}
	for i, s := range a.URIs {
		// Never the URI itself in the message: it holds the password.
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
			p.add(fmt.Sprintf("%s.uris[%d]", at, i), "not an amqp:// or amqps:// URL")
		}
	}
	p.join(a.Exchange.validate(at + ".exchange"))
	if a.Exchange.Name == "" && a.RoutingKey == "" {
		p.add(at+".routing_key", "required (the default exchange routes by queue name)")
	}
	p.join(delivery(at, a.Direct, a.Rollup, a.Callback, a.TLS))
	return p.err()
}

func (e *Exchange) validate(at string) error {
	var p problems
	if e.Name != "" && e.Type == "" {
		p.add(at+".type", "required for exchange %q", e.Name)
	}
	return p.err()
}

func (s *STOMP) validate(at string) error {
	var p problems
	if len(s.URIs) == 0 {
		p.add(at+".uris", "at least one broker host:port is needed")
	}
	for i, u := range s.URIs {
		if _, port, err := net.SplitHostPort(u); err != nil || !validPort(port) {
			p.add(fmt.Sprintf("%s.uris[%d]", at, i), "%q is not host:port", u)
		}
	}
	if s.Destination == "" {
		p.add(at+".destination", "required")
	}
	p.join(delivery(at, s.Direct, s.Rollup, s.Callback, s.TLS))
	return p.err()
}

// delivery checks what the AMQP and STOMP sections share.
func delivery(at string, direct bool, rollup int, callback string, tls *TLS) error {
	var p problems
	p.notNegativeInt(at+".rollup", int64(rollup))
	if !direct && callback != "" {
		p.wrap(at+".callback", httpURL(callback))
	}
	if tls != nil {
		p.join(tls.validate(at+".tls", false))
	}
	return p.err()
}

func (a *Auth) validate(at string) error {
	var p problems
	if a.Keyserver != nil {
		p.add(at+".keyserver", "not supported (Clair removed it too); use auth.psk")
	}
	if a.PSK != nil {
		p.join(a.PSK.validate(at + ".psk"))
	}
	return p.err()
}

// validate decodes the key here, not when the server starts, so that a
// key that is not base64 is reported with the rest of the file.
func (k *PSK) validate(at string) error {
	var p problems
	if strings.TrimSpace(k.Key) == "" {
		p.add(at+".key", "empty (give a base64 key, or %s)", EnvPSKKey)
	} else if _, err := auth.DecodeKey(k.Key); err != nil {
		p.add(at+".key", "%s", strings.TrimPrefix(err.Error(), "auth: key: "))
	}
	for i, iss := range k.Issuer {
		if strings.TrimSpace(iss) == "" {
			p.add(fmt.Sprintf("%s.iss[%d]", at, i), "empty")
		}
	}
	p.notNegative(at+".max_lifetime", k.MaxLifetime)
	return p.err()
}

// validate checks a TLS section. The server's own (required) needs both a
// certificate and its key; a client's (a broker connection) may have
// neither, trusting root_ca only, but not one without the other.
func (t *TLS) validate(at string, required bool) error {
	var p problems
	switch {
	case required && (t.Cert == "" || t.Key == ""):
		p.add(at, "both cert and key are needed")
	case !required && (t.Cert == "") != (t.Key == ""):
		p.add(at, "both cert and key are needed, or neither")
	}
	return p.err()
}

func (h *HTTP) validate(at string) error {
	var p problems
	p.notNegative(at+".read_header_timeout", h.ReadHeaderTimeout)
	p.notNegative(at+".read_timeout", h.ReadTimeout)
	p.notNegative(at+".write_timeout", h.WriteTimeout)
	p.notNegative(at+".idle_timeout", h.IdleTimeout)
	p.notNegativeInt(at+".max_connections", int64(h.MaxConnections))
	p.notNegativeInt(at+".max_connections_per_ip", int64(h.MaxConnectionsPerIP))
	return p.err()
}

// listenAddr accepts what net.Listen("tcp", ...) does: host:port, the host
// possibly empty, the port a number or 0.
func listenAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if n, err := net.LookupPort("tcp", port); err != nil || n < 0 {
		return fmt.Errorf("%q: port %q is not a port", s, port)
	}
	return nil
}
