package layerfetch

import (
	"context"
	"io"
)

// Open streams one blob whose digest is not known, for the classic layer
// API (it names layers, not digests): the same network policy, headers,
// limits and accounting as Image's layers, without the digest check.
func (f *Fetcher) Open(ctx context.Context, uri string, headers map[string][]string) (io.ReadCloser, error) {
	u, err := parseURI("Path", uri)
	if err != nil {
		return nil, err
	}
	hdr, err := requestHeader("Headers", headers)
	if err != nil {
		return nil, err
	}
	return (&layer{f: f, url: u, header: hdr}).open(ctx)
}
