package sqlite

import (
	"context"
	"fmt"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/rowscan"
)

// Manifests lists up to limit stored index reports, newest first.
func (s *Store) Manifests(ctx context.Context, limit int) ([]store.ManifestInfo, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: manifests: limit %d: %w", limit, store.ErrInvalid)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT manifest, updated_at FROM index_report ORDER BY updated_at DESC, manifest LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: manifests: %w", err)
	}
	defer rows.Close()
	out, err := rowscan.Manifests(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: manifests: %w", err)
	}
	return out, nil
}
