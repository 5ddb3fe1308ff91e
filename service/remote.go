package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// RemoteReports reads index reports from an indexer's API, for a matcher
// that does not share the indexer's database (Clair's matcher.indexer_addr).
type RemoteReports struct {
	Base   string // the indexer's address, e.g. http://clair-indexer:6060/
	Client *http.Client
	// Sign, when set, returns a bearer token for each request.
	Sign func() (string, error)
}

// IndexReport implements ReportSource.
func (r *RemoteReports) IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error) {
	u := strings.TrimSuffix(r.Base, "/") + "/indexer/api/v1/index_report/" + url.PathEscape(manifest)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("indexer %s: %w", r.Base, err)
	}
	if r.Sign != nil {
		tok, err := r.Sign()
		if err != nil {
			return nil, fmt.Errorf("indexer %s: sign: %w", r.Base, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	c := r.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("indexer %s: %w", r.Base, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("indexer %s: index report %s: %w", r.Base, manifest, store.ErrNotFound)
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("indexer %s: index report %s: %s: %s", r.Base, manifest, resp.Status, strings.TrimSpace(string(b)))
	}
	var ir vuln.IndexReport
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&ir); err != nil {
		return nil, fmt.Errorf("indexer %s: index report %s: %w", r.Base, manifest, err)
	}
	return &ir, nil
}
