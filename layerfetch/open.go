package layerfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Open streams one blob whose digest is not known, for the classic layer
// API (it names layers, not digests): the same network policy, headers
// and limits as Image's layers, without the digest check.
func (f *Fetcher) Open(ctx context.Context, uri string, headers map[string][]string) (io.ReadCloser, error) {
	u, err := url.Parse(uri)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &ManifestError{Field: "Path", Err: err}
	}
	if err := checkURL(u); err != nil {
		return nil, &ManifestError{Field: "Path", Err: err}
	}
	fctx, cancel := context.WithTimeout(ctx, f.timeout())
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, vs := range headers {
		if !validHeaderName(k) {
			cancel()
			return nil, invalid("Headers", "%q is not a valid header name", k)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				cancel()
				return nil, invalid("Headers", "%s: value holds control characters", k)
			}
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := f.httpClient().Do(req)
	if err != nil {
		cancel()
		return nil, f.requestError(ctx, fctx, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || resp.StatusCode == http.StatusPartialContent {
		defer cancel()
		defer resp.Body.Close()
		return nil, &StatusError{URL: redact(resp.Request.URL), StatusCode: resp.StatusCode, Status: resp.Status, Body: snippet(resp.Body)}
	}
	if max := f.maxSize(); resp.ContentLength > max {
		cancel()
		resp.Body.Close()
		return nil, fmt.Errorf("blob is %d bytes, more than the limit of %d", resp.ContentLength, max)
	}
	return &capped{rc: resp.Body, left: f.maxSize(), cancel: cancel, f: f}, nil
}

// capped ends a blob with an error past the size limit.
type capped struct {
	rc     io.ReadCloser
	left   int64
	n      int64
	cancel context.CancelFunc
	f      *Fetcher
	done   bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Exactly at the limit is fine: only a byte more is not.
		var one [1]byte
		n, err := c.rc.Read(one[:])
		if n > 0 {
			err = fmt.Errorf("blob is more than the limit of %d bytes", c.f.maxSize())
		}
		c.report(err)
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	c.n += int64(n)
	if err != nil {
		c.report(err)
	}
	return n, err
}

// report tells Stats of the fetch once: whole at EOF, or how it ended.
func (c *capped) report(err error) {
	if c.done || c.f.Stats == nil || err == nil {
		return
	}
	c.done = true
	if errors.Is(err, io.EOF) {
		err = nil
	}
	c.f.Stats.LayerFetched(c.n, err)
}

func (c *capped) Close() error {
	c.report(ErrIncomplete)
	defer c.cancel()
	return c.rc.Close()
}
