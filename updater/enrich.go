package updater

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// EnrichmentStore is what the updater needs of a store to keep enrichment
// feeds (feed.Enricher).
type EnrichmentStore interface {
	ReplaceEnrichments(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Enrichment) error) error) (store.UpdateOperation, error)
}

// EnrichmentLister is what an incremental feed (feed.Incremental) needs
// besides: the stored records, which an increment carries over.
type EnrichmentLister interface {
	EnrichmentRecords(ctx context.Context, feed string, fn func(*vuln.Enrichment) error) error
}

// replace stores the snapshot: an advisory feed's advisories, or an
// enrichment feed's records. Parse errors name the snapshot's URL, since the
// feeds' own errors name only the record or line.
func (u *Updater) replace(ctx context.Context, f feed.Feed, fp string, snap io.ReaderAt, size int64) (store.UpdateOperation, error) {
	if ef, ok := f.(feed.Enricher); ok {
		es, ok := u.Store.(EnrichmentStore)
		if !ok {
			return store.UpdateOperation{}, fmt.Errorf("store %T keeps no enrichment records", u.Store)
		}
		op, err := es.ReplaceEnrichments(ctx, f.Name(), fp, func(emit func(*vuln.Enrichment) error) error {
			own := func(e *vuln.Enrichment) error {
				e.Feed = f.Name()
				return emit(e)
			}
			if inc, ok := f.(feed.Incremental); ok {
				var prev func(func(*vuln.Enrichment) error) error
				if l, ok := u.Store.(EnrichmentLister); ok {
					prev = func(fn func(*vuln.Enrichment) error) error { return l.EnrichmentRecords(ctx, f.Name(), fn) }
				}
				return inc.ParseIncremental(ctx, snap, size, prev, own)
			}
			return ef.ParseEnrichments(ctx, snap, size, own)
		})
		if err != nil {
			return op, fmt.Errorf("%s: %w", feedURL(u.url(f)), err)
		}
		return op, nil
	}
	return u.Store.ReplaceFeed(ctx, f.Name(), fp, func(emit func(*vuln.Advisory) error) error {
		return f.Parse(ctx, snap, size, func(a *vuln.Advisory) error {
			a.Feed = f.Name()
			return emit(a)
		})
	})
}

// feedURL is the URL for an error message, without a password.
func feedURL(raw string) string {
	if p, ok := feed.FilePath(raw); ok {
		return p
	}
	return redactURL(raw)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
