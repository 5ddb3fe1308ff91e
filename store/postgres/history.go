package postgres

import (
	"context"
	"fmt"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/snapshot"
)

// UpdateOperations implements store.Store. The map is never nil.
func (s *Store) UpdateOperations(ctx context.Context, feeds ...string) (map[string][]store.UpdateOperation, error) {
	// A nil array is every feed: one statement, one plan.
	var names []string
	if len(feeds) > 0 {
		names = feeds
	}
	rows, err := s.pool.Query(ctx, `SELECT id, feed, fingerprint, date, advisories FROM update_operation
		WHERE $1::text[] IS NULL OR feed = ANY($1::text[]) ORDER BY feed, seq DESC`, names)
	if err != nil {
		return nil, fmt.Errorf("postgres: update operations: %w", err)
	}
	defer rows.Close()
	out := map[string][]store.UpdateOperation{}
	for rows.Next() {
		var op store.UpdateOperation
		var date int64
		if err := rows.Scan(&op.ID, &op.Feed, &op.Fingerprint, &date, &op.Advisories); err != nil {
			return nil, fmt.Errorf("postgres: update operations: %w", err)
		}
		op.Date = fromNanos(date)
		out[op.Feed] = append(out[op.Feed], op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: update operations: %w", err)
	}
	return out, nil
}

// UpdateDiff implements store.Store. Both operations are read by one
// statement, so a GC running meanwhile cannot leave one half read; the diff
// itself is computed here, not in the database (snapshot.Diff).
func (s *Store) UpdateDiff(ctx context.Context, prev, cur string) (*store.UpdateDiff, error) {
	rows, err := s.pool.Query(ctx, `SELECT o.id, o.feed, o.fingerprint, o.date, o.advisories, u.data
		FROM update_operation AS o LEFT JOIN update_snapshot AS u ON u.operation = o.id
		WHERE o.id = $1 OR o.id = $2`, prev, cur)
	if err != nil {
		return nil, fmt.Errorf("postgres: update diff %s..%s: %w", prev, cur, err)
	}
	defer rows.Close()
	d, err := snapshot.ScanUpdateDiff(prev, cur, rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: update diff %s..%s: %w", prev, cur, err)
	}
	return d, nil
}

// GC implements store.Store. The cascade deletes the snapshots. It takes no
// feed lock: an update committing meanwhile adds an operation GC does not
// see, and the one it makes old is still the feed's current in GC's view, so
// neither is deleted.
func (s *Store) GC(ctx context.Context, keep int) (int, error) {
	if keep < 0 {
		return 0, fmt.Errorf("postgres: gc: keep %d: %w", keep, store.ErrInvalid)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM update_operation WHERE id IN (
			SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY feed ORDER BY seq DESC) AS n FROM update_operation) AS r
			WHERE n > $1)
		AND id NOT IN (SELECT operation FROM feed)`, keep)
	if err != nil {
		return 0, fmt.Errorf("postgres: gc: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteIndexReports implements store.Store.
func (s *Store) DeleteIndexReports(ctx context.Context, manifests []string) ([]string, error) {
	if len(manifests) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `DELETE FROM index_report WHERE manifest = ANY($1::text[]) RETURNING manifest`, manifests)
	if err != nil {
		return nil, fmt.Errorf("postgres: delete index reports: %w", err)
	}
	defer rows.Close()
	gone := map[string]bool{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("postgres: delete index reports: %w", err)
		}
		gone[m] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: delete index reports: %w", err)
	}
	return inOrder(manifests, gone), nil
}

// inOrder returns the members of set in the order of list, each once.
func inOrder(list []string, set map[string]bool) []string {
	var out []string
	for _, m := range list {
		if set[m] {
			out = append(out, m)
			delete(set, m)
		}
	}
	return out
}
