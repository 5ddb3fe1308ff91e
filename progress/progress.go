// Package progress shows, on a terminal, how far long reads have come
// (layer pulls, layer indexing, feed downloads): bytes, total when known,
// and rate, on one line redrawn in place. Off a terminal it prints nothing.
package progress

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/openclair/clair/limit"
)

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Printer draws progress lines on out; several readers share one, so that
// their lines do not tear. A nil Printer prints nothing.
type Printer struct {
	out   io.Writer
	mu    sync.Mutex
	every time.Duration
	now   func() time.Time
}

// New returns a Printer on out, or nil when out is not a terminal.
func New(out io.Writer) *Printer {
	if !IsTerminal(out) {
		return nil
	}
	return newPrinter(out)
}

func newPrinter(out io.Writer) *Printer {
	return &Printer{out: out, every: 200 * time.Millisecond, now: time.Now}
}

// Reader counts what is read through rc under label; total is the
// expected size, or <= 0 when unknown. The final line is drawn on EOF or
// Close.
func (p *Printer) Reader(rc io.ReadCloser, label string, total int64) io.ReadCloser {
	if p == nil {
		return rc
	}
	now := p.now()
	return &reader{rc: rc, p: p, label: label, total: total, start: now, last: now}
}

type reader struct {
	rc          io.ReadCloser
	p           *Printer
	label       string
	n, total    int64
	start, last time.Time
	done        bool
}

func (r *reader) Read(b []byte) (int, error) {
	n, err := r.rc.Read(b)
	r.n += int64(n)
	if err == io.EOF {
		r.finish()
	} else if t := r.p.now(); t.Sub(r.last) >= r.p.every {
		r.last = t
		r.p.draw(r, false)
	}
	return n, err
}

func (r *reader) Close() error {
	r.finish()
	return r.rc.Close()
}

func (r *reader) finish() {
	if !r.done {
		r.done = true
		r.p.draw(r, true)
	}
}

func (p *Printer) draw(r *reader, final bool) {
	secs := p.now().Sub(r.start).Seconds()
	rate := ""
	if secs > 0 {
		rate = fmt.Sprintf("  %s/s", limit.Bytes(int64(float64(r.n)/secs)))
	}
	size := limit.Bytes(r.n)
	if r.total > 0 {
		size += " / " + limit.Bytes(r.total)
	}
	end := ""
	if final {
		end = "\n"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// \r and erase-line: redraw in place.
	fmt.Fprintf(p.out, "\r\x1b[K%s  %s%s%s", r.label, size, rate, end)
}

// Transport wraps next (nil: http.DefaultTransport) so that response
// bodies of GET requests show progress, labelled by label(request).
func (p *Printer) Transport(next http.RoundTripper, label func(*http.Request) string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if p == nil {
		return next
	}
	return roundTripper{next: next, p: p, label: label}
}

type roundTripper struct {
	next  http.RoundTripper
	p     *Printer
	label func(*http.Request) string
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || res.StatusCode != http.StatusOK {
		return res, err
	}
	if l := t.label(req); l != "" {
		res.Body = t.p.Reader(res.Body, l, res.ContentLength)
	}
	return res, nil
}
