package postgres

import (
	"context"
	"fmt"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/rowscan"
)

// Manifests lists up to limit stored index reports, newest first.
func (s *Store) Manifests(ctx context.Context, limit int) ([]store.ManifestInfo, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: manifests: limit %d: %w", limit, store.ErrInvalid)
	}
	rows, err := s.pool.Query(ctx, `SELECT manifest, updated_at FROM index_report ORDER BY updated_at DESC, manifest LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: manifests: %w", ctxErr(ctx, err))
	}
	defer rows.Close()
	out, err := rowscan.Manifests(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: manifests: %w", ctxErr(ctx, err))
	}
	return out, nil
}
