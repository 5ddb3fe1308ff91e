package postgres

import (
	"context"
	"fmt"

	"github.com/openclair/clair/vuln"
)

// These serve the classic API's /namespaces routes: listings, not the
// matcher's hot path.

// Namespaces returns every namespace with advisories and its version format.
func (s *Store) Namespaces(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT namespace, min(version_format) FROM advisory GROUP BY namespace`)
	if err != nil {
		return nil, fmt.Errorf("postgres: namespaces: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ns, vf string
		if err := rows.Scan(&ns, &vf); err != nil {
			return nil, fmt.Errorf("postgres: namespaces: %w", err)
		}
		out[ns] = vf
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: namespaces: %w", err)
	}
	return out, nil
}

// NamespaceVulnerabilities returns up to limit distinct vulnerability names
// of the namespace sorting after after (byte order, as SQLite's).
func (s *Store) NamespaceVulnerabilities(ctx context.Context, namespace, after string, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT name COLLATE "C" AS n FROM advisory
		WHERE namespace = $1 AND name COLLATE "C" > $2 ORDER BY n LIMIT $3`, namespace, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: vulnerabilities of %s: %w", namespace, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("postgres: vulnerabilities of %s: %w", namespace, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: vulnerabilities of %s: %w", namespace, err)
	}
	return out, nil
}

// Vulnerability returns the advisories named name in the namespace, every
// package and feed, with their details.
func (s *Store) Vulnerability(ctx context.Context, namespace, name string) ([]*vuln.Advisory, error) {
	rows, err := s.pool.Query(ctx, `SELECT feed, package, state, version_format, fixed_in, severity,
		normalized_severity, ranges, versions FROM advisory WHERE namespace = $1 AND name = $2
		ORDER BY feed, package, seq`, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("postgres: vulnerability %s %s: %w", namespace, name, err)
	}
	defer rows.Close()
	var out []*vuln.Advisory
	for rows.Next() {
		a := &vuln.Advisory{Namespace: namespace, Name: name}
		var state, ranges string
		var sev int16
		if err := rows.Scan(&a.Feed, &a.Package, &state, &a.VersionFormat, &a.FixedIn, &a.Severity,
			&sev, &ranges, &a.Versions); err != nil {
			return nil, fmt.Errorf("postgres: vulnerability %s %s: %w", namespace, name, err)
		}
		a.State, a.NormalizedSeverity = vuln.State(state), vuln.Severity(sev)
		if err := decodeRanges(a, ranges); err != nil {
			return nil, fmt.Errorf("postgres: vulnerability %s %s: %w", namespace, name, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: vulnerability %s %s: %w", namespace, name, err)
	}
	if err := s.Details(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Ping checks the database answers (readiness probes): a request fails fast
// while PostgreSQL is away, and pgx reconnects when it is back.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// PoolStats reports the connection pool, for metrics.
func (s *Store) PoolStats() (acquired, idle, total, max int32) {
	st := s.pool.Stat()
	return st.AcquiredConns(), st.IdleConns(), st.TotalConns(), st.MaxConns()
}
