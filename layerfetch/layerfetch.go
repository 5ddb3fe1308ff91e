// Package layerfetch turns the vuln.Manifest a client posts to the indexer
// API into an image.Image whose layers stream from the URIs the manifest
// gives, with the headers it gives, and from nowhere else: the server
// fetches on the client's behalf, so a manifest must not be able to make it
// reach its own network (see Classify), leak its own credentials, or pass a
// client's credentials on to a host they were not meant for.
package layerfetch

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/vuln"
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

// ManifestError is a manifest the Fetcher cannot use; Field names the
// offending part as in the JSON ("layers[2].uri").
type ManifestError struct {
	Field string
	Err   error
}

func (e *ManifestError) Error() string {
	return "invalid manifest: " + e.Field + ": " + e.Err.Error()
}

func (e *ManifestError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &ManifestError{Field: field, Err: fmt.Errorf(format, args...)}
}

// checkDigest accepts "sha256:" and 64, or "sha512:" and 128, lowercase
// hex digits, as the OCI image spec writes them: a layer's digest is the
// key its scan results are cached under, so it must be exact.
func checkDigest(d string) error {
	alg, hexs, ok := strings.Cut(d, ":")
	if !ok {
		return fmt.Errorf("%q is not a digest (want sha256:<64 hex digits>)", d)
	}
	var n int
	switch alg {
	case "sha256":
		n = 64
	case "sha512":
		n = 128
	default:
		return fmt.Errorf("%q: unsupported algorithm %q (want sha256 or sha512)", d, alg)
	}
	if len(hexs) != n {
		return fmt.Errorf("%q: want %d hex digits after %q, have %d", d, n, alg+":", len(hexs))
	}
	for _, c := range hexs {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%q: want lowercase hex digits after %q", d, alg+":")
		}
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue refuses control characters, which could split a
// request (CR, LF) or truncate it (NUL).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// Image checks m and returns the image it describes. Nothing is fetched
// yet: each layer is requested when the indexer opens it, with its
// headers and nothing else the Fetcher does not need to send (a
// User-Agent, unless the headers name one). A layer's blob is checked
// against its digest as it streams; the indexer learns of a mismatch as
// an error at the end of the stream, before it trusts what it read. An
// invalid manifest is a *ManifestError.
func (f *Fetcher) Image(m *vuln.Manifest) (*image.Image, error) {
	if m == nil {
		return nil, &ManifestError{Field: "manifest", Err: errors.New("missing")}
	}
	if err := checkDigest(m.Hash); err != nil {
		return nil, &ManifestError{Field: "hash", Err: err}
	}
	if len(m.Layers) == 0 {
		return nil, invalid("layers", "no layers")
	}
	if len(m.Layers) > f.maxLayers() {
		return nil, invalid("layers", "%d layers, more than the limit of %d", len(m.Layers), f.maxLayers())
	}
	img := &image.Image{Ref: m.Hash, ManifestDigest: m.Hash}
	for i, ml := range m.Layers {
		field := fmt.Sprintf("layers[%d]", i)
		if ml == nil {
			return nil, invalid(field, "missing")
		}
		if err := checkDigest(ml.Hash); err != nil {
			return nil, &ManifestError{Field: field + ".hash", Err: err}
		}
		u, err := parseURI(field+".uri", ml.URI)
		if err != nil {
			return nil, err
		}
		// An address literal the policy refuses is refused now, as a
		// client error, rather than when the indexer gets to the layer.
		// Names are checked when dialled.
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !f.AllowPrivate {
			if reason, blocked := Classify(ip); blocked {
				return nil, &ManifestError{Field: field + ".uri", Err: &BlockedError{Addr: netip.AddrPortFrom(ip, portOf(u)), Reason: reason, Hint: f.hint()}}
			}
		}
		hdr, err := requestHeader(field+".headers", ml.Headers)
		if err != nil {
			return nil, err
		}
		l := &layer{f: f, digest: ml.Hash, url: u, header: hdr}
		img.Layers = append(img.Layers, image.NewLayer(ml.Hash, "", 0, l.open))
	}
	return img, nil
}

// parseURI parses and checks a layer's URI; field names it in errors.
func parseURI(field, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, invalid(field, "missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URI, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &ManifestError{Field: field, Err: err}
	}
	if err := checkURL(u); err != nil {
		return nil, &ManifestError{Field: field, Err: err}
	}
	return u, nil
}

// requestHeader checks a layer's headers and returns them with canonical
// keys, so that checkRedirect's Del finds "authorization" too, and as a
// copy, so that the caller's map may change afterwards.
func requestHeader(field string, headers map[string][]string) (http.Header, error) {
	hdr := make(http.Header, len(headers)+1)
	for k, vs := range headers {
		if !validHeaderName(k) {
			return nil, invalid(field, "%q is not a valid header name", k)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return nil, invalid(field, "%s: value holds control characters", k)
			}
			hdr.Add(k, v)
		}
	}
	if _, ok := hdr["User-Agent"]; !ok {
		hdr.Set("User-Agent", userAgent)
	}
	return hdr, nil
}

func portOf(u *url.URL) uint16 {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return uint16(p)
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// layer is one layer's source.
type layer struct {
	f      *Fetcher
	digest string
	url    *url.URL
	header http.Header
}

// StatusError is a response other than 2xx to a layer's request.
type StatusError struct {
	// URL is the URL that answered (after redirects), without its query.
	URL        string
	StatusCode int
	Status     string // "404 Not Found"
	// Body is the start of the response body, printable characters only,
	// for the registry's explanation ({"errors":[{"code":"UNAUTHORIZED"...).
	Body string
}

func (e *StatusError) Error() string {
	s := "GET " + e.URL + ": " + e.Status
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// ErrIncomplete is what Stats is told of a blob closed before its end
// without a read error: the reader gave up (another layer failed, say),
// so the blob was neither whole nor verified.
var ErrIncomplete = errors.New("closed before the end of the blob")

// open requests the blob. Its errors do not name the layer: the image
// package wraps them in an image.LayerError, which does.
func (l *layer) open(ctx context.Context) (rc io.ReadCloser, err error) {
	f := l.f
	if f.Stats != nil {
		defer func() {
			if err != nil {
				f.Stats.LayerFetched(0, err)
			}
		}()
	}
	fctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer func() {
		if err != nil {
			cancel()
		}
	}()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, l.url.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header = l.header.Clone()
	resp, err := f.httpClient().Do(req)
	if err != nil {
		return nil, f.requestError(ctx, fctx, l.url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || resp.StatusCode == http.StatusPartialContent {
		defer resp.Body.Close()
		return nil, &StatusError{
			URL:        redact(resp.Request.URL),
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			Body:       snippet(resp.Body),
		}
	}
	if max := f.maxSize(); resp.ContentLength > max {
		resp.Body.Close()
		return nil, fmt.Errorf("blob is %d bytes, more than the limit of %d", resp.ContentLength, max)
	}
	var h hash.Hash
	if l.digest != "" {
		if h, err = newHash(l.digest); err != nil {
			resp.Body.Close()
			return nil, err
		}
	}
	return &body{
		l:      l,
		rc:     resp.Body,
		ctx:    ctx,
		fctx:   fctx,
		cancel: cancel,
		h:      h,
		max:    f.maxSize(),
	}, nil
}

// requestError unwraps what Client.Do returns into something that reads
// well after "layer sha256:…: ": a refusal as itself, a timeout as the
// Fetcher's.
func (f *Fetcher) requestError(ctx, fctx context.Context, u *url.URL, err error) error {
	var be *BlockedError
	if errors.As(err, &be) {
		return be
	}
	// url.Error prints the URL whole, query included.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("GET %s: %w", redact(u), ue.Err)
	}
	return f.timeoutError(ctx, fctx, err)
}

// timeoutError says so when the Fetcher's own deadline, not the caller's
// context, ended the fetch.
func (f *Fetcher) timeoutError(ctx, fctx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(fctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s: %w", f.timeout(), err)
	}
	return err
}

// snippet is the start of a body, printable and on one line.
func snippet(r io.Reader) string {
	const max = 256
	b, _ := io.ReadAll(io.LimitReader(r, max))
	var sb strings.Builder
	for len(b) > 0 {
		c, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case c == utf8.RuneError && n == 1:
			sb.WriteRune('?')
		case unicode.IsSpace(c):
			sb.WriteByte(' ')
		case unicode.IsPrint(c):
			sb.WriteRune(c)
		default:
			sb.WriteRune('?')
		}
	}
	s := strings.Join(strings.Fields(sb.String()), " ")
	if len(s) >= max-3 {
		s += "…"
	}
	return s
}

func newHash(digest string) (hash.Hash, error) {
	switch {
	case strings.HasPrefix(digest, "sha256:"):
		return sha256.New(), nil
	case strings.HasPrefix(digest, "sha512:"):
		return sha512.New(), nil
	}
	// Image has checked the digest; this is a bug.
	return nil, fmt.Errorf("unsupported digest %q", digest)
}

// body is a layer's response body, counted against MaxSize and checked
// against the layer's digest at its end. The image package reads every
// blob to its end (past the tar's end-of-archive marker) so that the check
// runs.
type body struct {
	l      *layer
	rc     io.ReadCloser
	ctx    context.Context // the caller's
	fctx   context.Context // with the Fetcher's timeout
	cancel context.CancelFunc
	h      hash.Hash
	n, max int64
	err    error // sticky: io.EOF after a verified end, or what ended it
	closed bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.h != nil {
		b.h.Write(p[:n])
	}
	if b.n > b.max {
		b.err = fmt.Errorf("blob is more than the limit of %d bytes", b.max)
		return n, b.err
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && b.h == nil:
		b.err = io.EOF // a blob of unknown digest (Open)
	case errors.Is(err, io.EOF):
		got := b.l.digest[:strings.IndexByte(b.l.digest, ':')+1] + fmt.Sprintf("%x", b.h.Sum(nil))
		if got != b.l.digest {
			// The image package's error, so that it reads as the other
			// sources' mismatches do. A short body without Content-Length
			// lands here too: its digest is not the blob's.
			b.err = &image.DigestError{Want: b.l.digest, Got: got}
		} else {
			b.err = io.EOF
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.err = fmt.Errorf("body ended after %d bytes: %w", b.n, err)
	default:
		b.err = b.l.f.timeoutError(b.ctx, b.fctx, fmt.Errorf("reading body after %d bytes: %w", b.n, err))
	}
	return n, b.err
}

func (b *body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.rc.Close()
	b.cancel()
	if s := b.l.f.Stats; s != nil {
		var serr error
		switch {
		case b.err == nil:
			serr = ErrIncomplete
		case !errors.Is(b.err, io.EOF):
			serr = b.err
		}
		s.LayerFetched(b.n, serr)
	}
	return err
}
