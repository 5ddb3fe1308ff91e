package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/feedwrite"
	"github.com/openclair/clair/store/internal/rowscan"
	"github.com/openclair/clair/store/internal/snapshot"
	"github.com/openclair/clair/vuln"
)

// enrichmentBatch rows per multi-row INSERT (3 columns each), as advisoryBatch.
const enrichmentBatch = 200

// ReplaceEnrichments replaces the enrichment feed's records with what load
// emits, in one transaction, as ReplaceFeed does for advisories: the feed's
// state (fingerprint, operation) is written with them, so FeedState,
// FeedStates and TouchFeed serve enrichment feeds too, and a failed load
// leaves the previous records in place. The operation keeps an empty
// advisory snapshot: an enrichment feed has no advisories to diff. A CVE
// emitted twice is an error.
func (s *Store) ReplaceEnrichments(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Enrichment) error) error) (op store.UpdateOperation, err error) {
	if load == nil {
		return op, fmt.Errorf("sqlite: replace enrichments %s: nil load", feed)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return op, fmt.Errorf("sqlite: replace enrichments %s: begin: %w", feed, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error being returned is the one that matters
		}
	}()
	if _, err = tx.ExecContext(ctx, `DELETE FROM enrichment WHERE feed = ?`, feed); err != nil {
		return op, fmt.Errorf("sqlite: replace enrichments %s: delete old records: %w", feed, err)
	}
	b := batcher{tx: tx, cols: 3, size: enrichmentBatch, prefix: insertVerb + ` INTO enrichment (cve, feed, rec) VALUES `}
	defer b.close()
	em := feedwrite.NewEmitter(ctx, "sqlite: replace enrichments "+feed, func(e *vuln.Enrichment) error {
		rec, cve, err := feedwrite.EncodeEnrichment(feed, e)
		if err != nil {
			return err
		}
		if err := b.add(ctx, cve, feed, rec); err != nil {
			return fmt.Errorf("insert (a CVE twice?): %w", err)
		}
		return nil
	})
	if err = em.Close(load(em.Emit)); err != nil {
		return op, err
	}
	if err = b.flush(ctx); err != nil {
		return op, fmt.Errorf("sqlite: replace enrichments %s: insert (a CVE twice?): %w", feed, err)
	}
	blob, err := snapshot.NewWriter().Finish()
	if err != nil {
		return store.UpdateOperation{}, fmt.Errorf("sqlite: replace enrichments %s: %w", feed, err)
	}
	if op, err = recordUpdate(ctx, tx, "replace enrichments", feed, fingerprint, em.Len(), blob); err != nil {
		return store.UpdateOperation{}, err
	}
	if err = tx.Commit(); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("sqlite: replace enrichments %s: commit: %w", feed, err)
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
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: enrichments: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT e.feed, e.rec FROM json_each(?) AS p CROSS JOIN enrichment AS e WHERE e.cve = p.value`, string(arg))
	if err != nil {
		return nil, fmt.Errorf("sqlite: enrichments: %w", err)
	}
	defer rows.Close()
	out, err := rowscan.Enrichments(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: enrichments: %w", err)
	}
	return out, nil
}

var _ match.EnrichmentProber = (*Store)(nil)

// HasEnrichments reports whether any enrichment feed holds a record, so
// that the matcher skips the look-up of every CVE of a report when none
// does (match.EnrichmentProber).
func (s *Store) HasEnrichments(ctx context.Context) (bool, error) {
	var has bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM enrichment)`).Scan(&has); err != nil {
		return false, fmt.Errorf("sqlite: has enrichments: %w", err)
	}
	return has, nil
}

// EnrichmentRecords implements store.EnrichmentStore. It reads through its
// own connection, so from inside ReplaceEnrichments' load it sees the
// committed snapshot, not the transaction's.
func (s *Store) EnrichmentRecords(ctx context.Context, feed string, fn func(*vuln.Enrichment) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT cve, rec FROM enrichment WHERE feed = ?`, feed)
	if err != nil {
		return fmt.Errorf("sqlite: enrichment records %s: %w", feed, err)
	}
	defer rows.Close()
	return rowscan.EachEnrichment(rows, "sqlite: enrichment records "+feed, feed, fn)
}
