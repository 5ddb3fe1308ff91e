package layerfetch

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openclair/clair/digest"
	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/image"
)

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
	// It is for the logs: with private networks allowed it may be an
	// internal server's reply, so it never reaches the client.
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

// errTooSlow is the cause of a fetch the rate watch ended.
var errTooSlow = errors.New("too slow")

// open requests the blob. Its errors do not name the layer: the image
// package wraps them in an image.LayerError, which does. Every error is an
// *errkind.Error whose public message quotes nothing the client did not
// send (no resolved address, no body of another server's reply).
func (l *layer) open(ctx context.Context) (rc io.ReadCloser, err error) {
	f := l.f
	if f.Stats != nil {
		defer func() {
			if err != nil {
				f.Stats.LayerFetched(0, err)
			}
		}()
	}
	tctx, cancelT := context.WithTimeout(ctx, f.timeout())
	fctx, cancelC := context.WithCancelCause(tctx)
	cancel := func() { cancelC(nil); cancelT() }
	defer func() {
		if err != nil {
			cancel()
		}
	}()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, l.url.String(), nil)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, "bad layer URI", err)
	}
	req.Header = l.header.Clone()
	resp, err := f.httpClient().Do(req)
	if err != nil {
		return nil, f.requestError(ctx, fctx, l.url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || resp.StatusCode == http.StatusPartialContent {
		defer resp.Body.Close()
		se := &StatusError{
			URL:        redact(resp.Request.URL),
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			Body:       snippet(resp.Body),
		}
		return nil, errkind.Wrap(errkind.Upstream, "the layer source answered "+resp.Status, se)
	}
	if max := f.maxSize(); resp.ContentLength > max {
		resp.Body.Close()
		return nil, errkind.New(errkind.TooLarge, fmt.Sprintf("blob is %d bytes, more than the limit of %d", resp.ContentLength, max))
	}
	var h hash.Hash
	if l.digest != "" {
		if h, err = newHash(l.digest); err != nil {
			resp.Body.Close()
			return nil, err
		}
	}
	b := &body{
		l:      l,
		rc:     resp.Body,
		ctx:    ctx,
		fctx:   fctx,
		cancel: cancel,
		h:      h,
		max:    f.maxSize(),
	}
	if rate, win := f.minRate(), f.rateWindow(); rate > 0 {
		b.watch = time.AfterFunc(win, func() { b.checkRate(rate, win, cancelC) })
	}
	return b, nil
}

// checkRate ends the fetch when less than rate bytes a second arrived in
// the last window, and otherwise looks again after the next: a source that
// trickles a byte every few seconds never trips a read timeout, and would
// hold a connection, a scan slot and the manifest's request for as long as
// the whole-fetch timeout allows.
func (b *body) checkRate(rate int64, win time.Duration, cancel context.CancelCauseFunc) {
	n := b.read.Load()
	if float64(n-b.lastRead) < float64(rate)*win.Seconds() {
		cancel(errTooSlow)
		return
	}
	b.lastRead = n
	b.watch.Reset(win)
}

// requestError turns what Client.Do returns into an errkind error: a
// refusal is the client's (Invalid), a timeout the Fetcher's, anything else
// the source's. url.Error prints the URL whole, query included, so it is
// unwrapped.
func (f *Fetcher) requestError(ctx, fctx context.Context, u *url.URL, err error) error {
	var be *BlockedError
	if errors.As(err, &be) {
		return errkind.Wrap(errkind.Invalid, be.public(), be)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("GET %s: %w", redact(u), ue.Err)
	}
	return f.timeoutError(ctx, fctx, err, "the layer source could not be reached")
}

// timeoutError says so when the Fetcher's own deadline or rate watch, not
// the caller's context, ended the fetch; else the error is the source's
// (or the caller's cancellation, which errkind recognises).
func (f *Fetcher) timeoutError(ctx, fctx context.Context, err error, public string) error {
	if ctx.Err() != nil {
		return err
	}
	switch cause := context.Cause(fctx); {
	case errors.Is(cause, errTooSlow):
		msg := fmt.Sprintf("the layer source sent less than %d bytes/s over %s", f.minRate(), f.rateWindow())
		return errkind.Wrap(errkind.Timeout, msg, fmt.Errorf("%s: %w", msg, err))
	case errors.Is(cause, context.DeadlineExceeded):
		msg := fmt.Sprintf("the layer fetch timed out after %s", f.timeout())
		return errkind.Wrap(errkind.Timeout, msg, fmt.Errorf("timed out after %s: %w", f.timeout(), err))
	}
	return errkind.Wrap(errkind.Upstream, public, err)
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

func newHash(d string) (hash.Hash, error) {
	dg, err := digest.Parse(d)
	if err != nil {
		// Image has checked the digest; this is a bug.
		return nil, err
	}
	return dg.Hash(), nil
}

// body is a layer's response body, counted against MaxSize and checked
// against the layer's digest at its end. The image package reads every
// blob to its end (past the tar's end-of-archive marker) so that the check
// runs.
type body struct {
	l      *layer
	rc     io.ReadCloser
	ctx    context.Context // the caller's
	fctx   context.Context // with the Fetcher's timeout and rate watch
	cancel context.CancelFunc
	h      hash.Hash
	n, max int64
	err    error // sticky: io.EOF after a verified end, or what ended it
	closed bool

	read     atomic.Int64 // n, for the rate watch's goroutine
	lastRead int64        // the watch's own
	watch    *time.Timer
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	b.read.Store(b.n)
	if b.h != nil {
		b.h.Write(p[:n])
	}
	if b.n > b.max {
		b.err = errkind.New(errkind.TooLarge, fmt.Sprintf("blob is more than the limit of %d bytes", b.max))
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
			b.err = errkind.Wrap(errkind.BadContent, "content does not match its digest "+b.l.digest, &image.DigestError{Want: b.l.digest, Got: got})
		} else {
			b.err = io.EOF
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.err = errkind.Wrap(errkind.Upstream, "the layer source ended the blob early", fmt.Errorf("body ended after %d bytes: %w", b.n, err))
	default:
		b.err = b.l.f.timeoutError(b.ctx, b.fctx, fmt.Errorf("reading body after %d bytes: %w", b.n, err), "reading the layer failed")
	}
	return n, b.err
}

func (b *body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.watch != nil {
		b.watch.Stop()
	}
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
