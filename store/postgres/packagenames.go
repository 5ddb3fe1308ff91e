package postgres

import (
	"context"
	"fmt"
)

// PackageNames returns the distinct package names the namespace has
// advisories for, in byte order (as SQLite's). The matcher reads it once per
// feed generation (to recover the group of a Maven artifact found without
// one); advisory_lookup (namespace, package) serves it.
func (s *Store) PackageNames(ctx context.Context, namespace string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT package COLLATE "C" AS p FROM advisory
		WHERE namespace = $1 ORDER BY p`, namespace)
	if err != nil {
		return nil, fmt.Errorf("postgres: package names of %s: %w", namespace, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("postgres: package names of %s: %w", namespace, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: package names of %s: %w", namespace, err)
	}
	return out, nil
}
