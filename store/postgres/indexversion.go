package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/openclair/clair/store"
)

// IndexReportVersion returns when the manifest's report was last written:
// the matcher keys its cache of encoded reports on it, so that a request for
// a cached report need not decode the index report at all.
func (s *Store) IndexReportVersion(ctx context.Context, manifest string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT updated_at FROM index_report WHERE manifest = $1`, manifest).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("postgres: index report %s: %w", manifest, store.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("postgres: index report %s: %w", manifest, ctxErr(ctx, err))
	}
	return v, nil
}
