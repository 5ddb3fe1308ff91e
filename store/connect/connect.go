// Package connect opens the store a connection string names, so that the
// server's config and clairctl's --db take the same strings.
package connect

import (
	"context"
	"net/url"
	"strings"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/postgres"
	"github.com/openclair/clair/store/sqlite"
)

// Kind says which store a connection string names: "postgres" for a
// PostgreSQL URL ("postgres://", "postgresql://") or key=value string
// ("host=db user=clair"), "sqlite" otherwise ("sqlite:PATH", a bare path, or
// "" for the default file in the user cache folder).
func Kind(conn string) string {
	c := strings.TrimSpace(conn)
	switch {
	case strings.HasPrefix(c, "postgres://"), strings.HasPrefix(c, "postgresql://"):
		return "postgres"
	case strings.HasPrefix(c, "sqlite:"):
		return "sqlite"
	case isKeyValue(c):
		return "postgres"
	}
	return "sqlite"
}

// isKeyValue recognizes libpq's key=value form by its first word: a file
// path may contain '=' too, but never starts with one of libpq's keywords
// followed by it.
func isKeyValue(c string) bool {
	k, _, ok := strings.Cut(strings.Fields(c + " x")[0], "=")
	if !ok {
		return false
	}
	switch k {
	case "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "application_name",
		"connect_timeout", "options", "service", "target_session_attrs", "pool_max_conns":
		return true
	}
	return false
}

// Open opens (creating and migrating when needed) the store conn names.
func Open(ctx context.Context, conn string) (store.Store, error) {
	c := strings.TrimSpace(conn)
	if Kind(c) == "postgres" {
		return postgres.Open(ctx, c)
	}
	path := strings.TrimPrefix(c, "sqlite:")
	if path == "" {
		p, err := sqlite.DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return sqlite.Open(ctx, path)
}

// Redacted is conn without its password, for logs: "postgres://clair@db/clair",
// "host=db user=clair dbname=clair", or the SQLite path (the default file
// named).
func Redacted(conn string) string {
	c := strings.TrimSpace(conn)
	switch Kind(c) {
	case "postgres":
		if u, err := url.Parse(c); err == nil && u.Scheme != "" {
			if u.User != nil {
				u.User = url.User(u.User.Username())
			}
			q := u.Query()
			if q.Has("password") {
				q.Del("password")
				u.RawQuery = q.Encode()
			}
			return u.String()
		}
		var kept []string
		for _, f := range strings.Fields(c) {
			if k, _, _ := strings.Cut(f, "="); k == "password" {
				continue
			}
			kept = append(kept, f)
		}
		return strings.Join(kept, " ")
	}
	path := strings.TrimPrefix(c, "sqlite:")
	if path == "" {
		if p, err := sqlite.DefaultPath(); err == nil {
			return p
		}
	}
	return path
}
