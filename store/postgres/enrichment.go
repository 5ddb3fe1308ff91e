package postgres

import (
	"context"
	"fmt"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/feedwrite"
	"github.com/openclair/clair/store/internal/rowscan"
	"github.com/openclair/clair/store/internal/snapshot"
	"github.com/openclair/clair/vuln"
)

// ReplaceEnrichments replaces the enrichment feed's records with what load
// emits, in one transaction, as ReplaceFeed does for advisories: the feed's
// state (fingerprint, operation) is written with them, so FeedState,
// FeedStates and TouchFeed serve enrichment feeds too, and a failed load
// leaves the previous records in place. The operation keeps an empty
// advisory snapshot: an enrichment feed has no advisories to diff. A CVE
// emitted twice is an error.
func (s *Store) ReplaceEnrichments(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Enrichment) error) error) (op store.UpdateOperation, err error) {
	if load == nil {
		return op, fmt.Errorf("postgres: replace enrichments %s: nil load", feed)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return op, fmt.Errorf("postgres: replace enrichments %s: begin: %w", feed, ctxErr(ctx, err))
	}
	defer func() {
		if err != nil {
			rollback(ctx, tx)
		}
	}()
	if _, err = tx.Exec(ctx, feedLock, feed); err != nil {
		return op, fmt.Errorf("postgres: replace enrichments %s: lock: %w", feed, ctxErr(ctx, err))
	}
	if _, err = tx.Exec(ctx, `DELETE FROM enrichment WHERE feed = $1`, feed); err != nil {
		return op, fmt.Errorf("postgres: replace enrichments %s: delete old records: %w", feed, ctxErr(ctx, err))
	}
	c := copier{tx: tx, table: "enrichment", cols: []string{"cve", "feed", "rec"}}
	em := feedwrite.NewEmitter(ctx, "postgres: replace enrichments "+feed, func(e *vuln.Enrichment) error {
		rec, cve, err := feedwrite.EncodeEnrichment(feed, e)
		if err != nil {
			return err
		}
		if err := c.add(ctx, cve, feed, rec); err != nil {
			return fmt.Errorf("copy: %w", ctxErr(ctx, err))
		}
		return nil
	})
	if err = em.Close(load(em.Emit)); err != nil {
		return op, err
	}
	if err = c.flush(ctx); err != nil {
		return op, fmt.Errorf("postgres: replace enrichments %s: copy: %w", feed, ctxErr(ctx, err))
	}
	blob, err := snapshot.NewWriter().Finish()
	if err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: replace enrichments %s: %w", feed, err)
	}
	if op, err = recordUpdate(ctx, tx, "replace enrichments", feed, fingerprint, em.Len(), blob); err != nil {
		return store.UpdateOperation{}, err
	}
	if err = ctx.Err(); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: replace enrichments %s: %w", feed, err)
	}
	if err = tx.Commit(ctx); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: replace enrichments %s: commit: %w", feed, ctxErr(ctx, err))
	}
	return op, nil
}

// Enrichments returns the records of every enrichment feed for these CVE
// ids (any case), with Feed set, in no particular order.
func (s *Store) Enrichments(ctx context.Context, cves []string) ([]*vuln.Enrichment, error) {
	if len(cves) == 0 {
		return nil, nil
	}
	ids := rowscan.CVEKeys(cves)
	rows, err := s.pool.Query(ctx, `SELECT feed, rec FROM enrichment WHERE cve = ANY($1::text[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: enrichments: %w", err)
	}
	defer rows.Close()
	out, err := rowscan.Enrichments(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: enrichments: %w", err)
	}
	return out, nil
}

var _ match.EnrichmentProber = (*Store)(nil)

// HasEnrichments reports whether any enrichment feed holds a record, so
// that the matcher skips the look-up of every CVE of a report when none
// does (match.EnrichmentProber).
func (s *Store) HasEnrichments(ctx context.Context) (bool, error) {
	var has bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM enrichment)`).Scan(&has); err != nil {
		return false, fmt.Errorf("postgres: has enrichments: %w", ctxErr(ctx, err))
	}
	return has, nil
}

// EnrichmentRecords implements store.EnrichmentStore. It reads through its
// own connection, so from inside ReplaceEnrichments' load it sees the
// committed snapshot, not the transaction's.
func (s *Store) EnrichmentRecords(ctx context.Context, feed string, fn func(*vuln.Enrichment) error) error {
	rows, err := s.pool.Query(ctx, `SELECT cve, rec FROM enrichment WHERE feed = $1`, feed)
	if err != nil {
		return fmt.Errorf("postgres: enrichment records %s: %w", feed, err)
	}
	defer rows.Close()
	return rowscan.EachEnrichment(rows, "postgres: enrichment records "+feed, feed, fn)
}
