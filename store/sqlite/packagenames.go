package sqlite

import (
	"context"
	"fmt"
)

// PackageNames returns the distinct package names the namespace has
// advisories for, in byte order. The matcher reads it once per feed
// generation (to recover the group of a Maven artifact found without one),
// so a read of the namespace's keys is enough.
func (s *Store) PackageNames(ctx context.Context, namespace string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT package FROM advisory
		WHERE feed IN (SELECT feed FROM feed_namespace WHERE namespace = ?1) AND namespace = ?1
		ORDER BY package`, namespace)
	if err != nil {
		return nil, fmt.Errorf("sqlite: package names of %s: %w", namespace, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: package names of %s: %w", namespace, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: package names of %s: %w", namespace, err)
	}
	return out, nil
}
