package updater

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/internal/redact"
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
// enrichment feed's records (an increment's with the stored ones carried
// over), behind the shrink guard (stored is what the stored snapshot
// holds). Parse errors of enrichment feeds name the snapshot's URL, since
// the feeds' own errors name only the record or line.
func (u *Updater) replace(ctx context.Context, f feed.Feed, fp string, snap io.ReaderAt, size int64, stored int) (store.UpdateOperation, error) {
	guard := func(n int, err error) error {
		if err == nil && !u.Force && shrinks(stored, n) {
			// Failing load rolls the transaction back: the stored
			// snapshot stays.
			return &ShrinkError{Feed: f.Name(), Stored: stored, Parsed: n}
		}
		return err
	}
	if ef, ok := f.(feed.Enricher); ok {
		es, ok := u.Store.(EnrichmentStore)
		if !ok {
			return store.UpdateOperation{}, fmt.Errorf("store %T keeps no enrichment records", u.Store)
		}
		op, err := es.ReplaceEnrichments(ctx, f.Name(), fp, func(emit func(*vuln.Enrichment) error) error {
			n := 0
			own := func(e *vuln.Enrichment) error {
				e.Feed = f.Name()
				n++
				return emit(e)
			}
			if inc, ok := f.(feed.Incremental); ok {
				var prev func(func(*vuln.Enrichment) error) error
				if l, ok := u.Store.(EnrichmentLister); ok {
					prev = func(fn func(*vuln.Enrichment) error) error { return l.EnrichmentRecords(ctx, f.Name(), fn) }
				}
				err := inc.ParseIncremental(ctx, snap, size, prev, own)
				return guard(n, err)
			}
			err := ef.ParseEnrichments(ctx, snap, size, own)
			return guard(n, err)
		})
		var se *ShrinkError
		if err != nil && !errors.As(err, &se) {
			return op, fmt.Errorf("%s: %w", feedURL(u.url(f)), err)
		}
		return op, err
	}
	return u.Store.ReplaceFeed(ctx, f.Name(), fp, func(emit func(*vuln.Advisory) error) error {
		n := 0
		err := f.Parse(ctx, snap, size, func(a *vuln.Advisory) error {
			a.Feed = f.Name()
			n++
			return emit(a)
		})
		return guard(n, err)
	})
}

// feedURL is the URL for an error message, without a password.
func feedURL(raw string) string {
	if p, ok := feed.FilePath(raw); ok {
		return p
	}
	return redact.URL(raw)
}
