package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/openclair/clair/vuln"
)

// These serve the classic API's /namespaces routes: listings, not the
// matcher's hot path, so they favour simple queries over speed.

// Namespaces returns every namespace with advisories and its version format.
func (s *Store) Namespaces(ctx context.Context) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT fn.namespace,
		(SELECT a.rec FROM advisory a WHERE a.feed = fn.feed AND a.namespace = fn.namespace LIMIT 1)
		FROM feed_namespace fn`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: namespaces: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ns string
		var rec *string
		if err := rows.Scan(&ns, &rec); err != nil {
			return nil, fmt.Errorf("sqlite: namespaces: %w", err)
		}
		if rec == nil {
			continue
		}
		f := strings.SplitN(*rec, sep, 4) // name, state, version_format, ...
		if len(f) < 3 {
			return nil, fmt.Errorf("sqlite: namespaces: %s: truncated record", ns)
		}
		if _, ok := out[ns]; !ok || out[ns] == "" {
			out[ns] = f[2]
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: namespaces: %w", err)
	}
	return out, nil
}

// NamespaceVulnerabilities returns up to limit distinct vulnerability names
// of the namespace sorting after after.
func (s *Store) NamespaceVulnerabilities(ctx context.Context, namespace, after string, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT substr(rec, 1, instr(rec, char(0)) - 1) AS name
		FROM advisory
		WHERE feed IN (SELECT feed FROM feed_namespace WHERE namespace = ?1) AND namespace = ?1
		AND substr(rec, 1, instr(rec, char(0)) - 1) > ?2
		ORDER BY name LIMIT ?3`, namespace, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: vulnerabilities of %s: %w", namespace, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: vulnerabilities of %s: %w", namespace, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: vulnerabilities of %s: %w", namespace, err)
	}
	return out, nil
}

// Vulnerability returns the advisories named name in the namespace, every
// package and feed, with their details.
func (s *Store) Vulnerability(ctx context.Context, namespace, name string) ([]*vuln.Advisory, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT feed, package, rec FROM advisory
		WHERE feed IN (SELECT feed FROM feed_namespace WHERE namespace = ?1) AND namespace = ?1
		AND substr(rec, 1, instr(rec, char(0)) - 1) = ?2
		ORDER BY feed, package, seq`, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("sqlite: vulnerability %s %s: %w", namespace, name, err)
	}
	defer rows.Close()
	var out []*vuln.Advisory
	for rows.Next() {
		var feed, pkg, rec string
		if err := rows.Scan(&feed, &pkg, &rec); err != nil {
			return nil, fmt.Errorf("sqlite: vulnerability %s %s: %w", namespace, name, err)
		}
		d := &advisoryDecoder{namespace: namespace, feed: feed}
		err := splitRecords(pkg+sep+rec, advisoryFields, func(f []string) error {
			a, err := d.decode(f)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqlite: vulnerability %s %s: %w", namespace, name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: vulnerability %s %s: %w", namespace, name, err)
	}
	if err := s.Details(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Ping checks the database answers (readiness probes).
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }
