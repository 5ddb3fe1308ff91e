// Package layerfetch turns the vuln.Manifest a client posts to the indexer
// API into an image.Image whose layers stream from the URIs the manifest
// gives, with the headers it gives, and from nowhere else: the server
// fetches on the client's behalf, so a manifest must not be able to make it
// reach its own network (see Classify), leak its own credentials, or pass a
// client's credentials on to a host they were not meant for.
package layerfetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for a Fetcher's zero fields.
const (
	// DefaultHeaderTimeout bounds the wait for a response's headers: a
	// registry that accepted the connection but does not answer is down.
	DefaultHeaderTimeout = 30 * time.Second
	// DefaultTimeout bounds a whole fetch, body included.
	DefaultTimeout = 10 * time.Minute
	// DefaultMaxSize is far above real layers (the largest common images
	// have layers of a few GiB) and still stops an endless body.
	DefaultMaxSize int64 = 16 << 30
	// DefaultMaxLayers is above what any builder produces (Docker caps an
	// image at 127 layers by overlayfs's limits, registries at a few
	// hundred) and bounds the work one request can ask for.
	DefaultMaxLayers = 1000
	// DefaultMinRate and DefaultRateWindow end a fetch that brings less
	// than 1 KiB a second over 30 s: far below any registry's worst day,
	// far above a source trickling a byte every few seconds to hold the
	// indexer.
	DefaultMinRate    int64 = 1 << 10
	DefaultRateWindow       = 30 * time.Second
)

// maxRedirects is how many redirects one fetch follows: registries
// redirect a blob once or twice (to S3, then a CDN edge); a longer chain
// is a loop.
const maxRedirects = 10

// userAgent is sent unless the manifest's headers name one, so that a
// registry's logs say what fetched the blob.
const userAgent = "openclair"

// Stats is told of every layer fetch, for counters (layers fetched,
// bytes, failures) that this package does not want to know the metrics
// library of. LayerFetched is called once per fetch, when it ends: with
// the bytes of the blob read and nil when the whole blob was read and
// matched its digest, or with the bytes read so far and the error that
// ended it. It may be called from several goroutines at once.
type Stats interface {
	LayerFetched(bytes int64, err error)
}

// StatsFunc adapts a function to Stats.
type StatsFunc func(bytes int64, err error)

// LayerFetched calls fn.
func (fn StatsFunc) LayerFetched(bytes int64, err error) { fn(bytes, err) }

// Fetcher makes images out of manifests. Its zero value is ready to use and
// refuses private networks. Set its fields before its first use and do not
// change them afterwards; one Fetcher may serve many requests at once, and
// should, so that connections to a registry are reused.
//
// A Fetcher connects directly, whatever HTTP_PROXY and HTTPS_PROXY say:
// through a proxy the dial goes to the proxy, so the network policy would
// see the proxy's address only and could not tell where the proxy connects
// on the manifest's behalf. Supporting a proxy would mean checking the
// target before the request (a resolution the proxy repeats, so DNS
// rebinding would get through) and trusting the proxy's own egress rules.
type Fetcher struct {
	// AllowPrivate lets layers come from loopback, private, link-local and
	// other non-public addresses (an in-cluster registry). Off, such
	// connections are refused with a *BlockedError.
	AllowPrivate bool
	// PrivateHint ends a refusal's message; empty means DefaultPrivateHint.
	PrivateHint string
	// HeaderTimeout bounds the wait for each response's headers; <=0
	// means DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// Timeout bounds one layer's fetch from request to the end of the body;
	// <=0 means DefaultTimeout.
	Timeout time.Duration
	// MaxSize bounds a layer blob in bytes; <=0 means DefaultMaxSize.
	MaxSize int64
	// MaxLayers bounds the layers of a manifest; <=0 means
	// DefaultMaxLayers.
	MaxLayers int
	// Stats, if set, is told of every fetch.
	Stats Stats
	// MinRate is the fewest bytes a second a blob must arrive at, averaged
	// over each RateWindow, or its fetch ends; 0 means DefaultMinRate,
	// <0 no minimum.
	MinRate int64
	// RateWindow is the span MinRate is averaged over; <=0 means
	// DefaultRateWindow.
	RateWindow time.Duration

	once   sync.Once
	client *http.Client

	// For tests: testDialAddr rewrites the host:port a connection is made
	// to (so that registry.test can be an httptest server while the URL
	// keeps its host), testAllow exempts an address from the policy.
	testDialAddr func(addr string) string
	testAllow    func(netip.AddrPort) bool
}

func (f *Fetcher) headerTimeout() time.Duration {
	if f.HeaderTimeout > 0 {
		return f.HeaderTimeout
	}
	return DefaultHeaderTimeout
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultTimeout
}

func (f *Fetcher) minRate() int64 {
	switch {
	case f.MinRate > 0:
		return f.MinRate
	case f.MinRate < 0:
		return 0
	}
	return DefaultMinRate
}

func (f *Fetcher) rateWindow() time.Duration {
	if f.RateWindow > 0 {
		return f.RateWindow
	}
	return DefaultRateWindow
}

func (f *Fetcher) maxSize() int64 {
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return DefaultMaxSize
}

func (f *Fetcher) maxLayers() int {
	if f.MaxLayers > 0 {
		return f.MaxLayers
	}
	return DefaultMaxLayers
}

// httpClient is the Fetcher's own client: nothing shared with the rest of
// the process (http.DefaultClient could have been given a jar or a
// transport adding credentials by anyone), no cookie jar, no proxy, and a
// dialer that applies the network policy.
func (f *Fetcher) httpClient() *http.Client {
	f.once.Do(func() {
		d := &net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
			Control:   f.control,
		}
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			host := addr
			if f.testDialAddr != nil {
				addr = f.testDialAddr(addr)
			}
			c, err := d.DialContext(ctx, network, addr)
			var be *BlockedError
			if err != nil && errors.As(err, &be) {
				// Say which name led there, not only the address.
				be.Host = host
				return nil, be
			}
			return c, err
		}
		tr := &http.Transport{
			Proxy:                  nil, // see Fetcher
			DialContext:            dial,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    30 * time.Second,
			ResponseHeaderTimeout:  f.headerTimeout(),
			IdleConnTimeout:        90 * time.Second,
			MaxIdleConns:           100,
			MaxIdleConnsPerHost:    16,
			MaxResponseHeaderBytes: 1 << 20,
			// Compression off: with it on, Go asks for gzip and inflates
			// the response itself, and a blob served with
			// Content-Encoding: gzip would reach the digest check as
			// something other than the blob.
			DisableCompression: true,
		}
		f.client = &http.Client{Transport: tr, CheckRedirect: checkRedirect}
	})
	return f.client
}

// CloseIdleConnections closes the connections the Fetcher keeps for reuse.
func (f *Fetcher) CloseIdleConnections() {
	f.httpClient().CloseIdleConnections()
}

// sensitive are the headers that carry credentials: they go to the origin
// the manifest named and to no other.
var sensitive = []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2", "Www-Authenticate"}

// checkRedirect follows up to maxRedirects redirects to http(s) URLs. When
// a redirect leaves the origin of the manifest's URI (scheme, host and
// port), the credentials are dropped for the rest of the chain: a registry
// redirects a blob to a presigned S3 or CDN URL, which needs no token, and
// must not be handed the client's registry token. net/http drops them too
// (since Go 1.8), but only when the host name changes and not for a
// subdomain, another port or a downgrade to http; go-containerregistry and
// containerd only send a token to the registry's exact host, and so does
// this. The network policy is applied again to each hop when it is dialled.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if err := checkURL(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", redact(req.URL), err)
	}
	first := via[0]
	left := origin(req.URL) != origin(first.URL)
	for _, r := range via[1:] {
		left = left || origin(r.URL) != origin(first.URL)
	}
	if left {
		for _, h := range sensitive {
			req.Header.Del(h)
		}
	}
	// net/http adds a Referer naming the previous URL, which may carry a
	// token in its query: send it only if the manifest asked for it.
	if first.Header.Get("Referer") == "" {
		req.Header.Del("Referer")
	}
	return nil
}

// origin is scheme://host:port with the scheme's default port made
// explicit, so that https://r and https://r:443 are one origin.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// redact is u without user info and query, for error messages: a
// presigned URL's query is a credential.
func redact(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.RawQuery != "" {
		r.RawQuery = "…"
	}
	return r.String()
}

// checkURL is what every URL fetched must be: http or https, a host, no
// user info (Go would turn it into an Authorization header the manifest's
// headers did not hold).
func checkURL(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
	case "":
		return errors.New("no scheme (want http or https)")
	default:
		return fmt.Errorf("scheme %q is not allowed (want http or https)", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return errors.New("no host")
	}
	if u.User != nil {
		return errors.New("user info in the URL is not allowed (pass credentials in headers)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("bad port %q", p)
		}
	}
	return nil
}
