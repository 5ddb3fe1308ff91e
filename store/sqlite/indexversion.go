package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/openclair/clair/store"
)

// IndexReportVersion returns when the manifest's report was last written:
// the matcher keys its cache of encoded reports on it, so that a request for
// a cached report need not decode the index report at all.
func (s *Store) IndexReportVersion(ctx context.Context, manifest string) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT updated_at FROM index_report WHERE manifest = ?`, manifest).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("sqlite: index report %s: %w", manifest, store.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("sqlite: index report %s: %w", manifest, err)
	}
	return v, nil
}
