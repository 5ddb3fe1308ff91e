// Package notifysql carries the notifier's storage (the package→manifest
// index, notification sets, delivery receipts) for both stores: the logic is
// written once against database/sql, and the dialect supplies only what
// differs (placeholders). store/postgres reaches its pool through pgx's
// database/sql adapter.
package notifysql

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// DB is one store's database: w takes writes, r reads (the same pool for
// PostgreSQL; SQLite's single writer and read-only pool). Each store embeds
// it, so that its exported methods are the store's notify.Store methods
// without a delegation each; its fields stay unexported for that reason.
type DB struct {
	w, r *sql.DB
	// prefix names the store in errors ("postgres", "sqlite").
	prefix string
	// dollar numbers placeholders ($1, $2: PostgreSQL); false keeps '?'.
	dollar bool
}

// New returns the notifier's storage over a store's database: w for
// writes, r for reads, prefix naming the store in errors, dollar for
// PostgreSQL's numbered placeholders.
func New(w, r *sql.DB, prefix string, dollar bool) *DB {
	return &DB{w: w, r: r, prefix: prefix, dollar: dollar}
}

// q rewrites a statement written with '?' placeholders for the dialect.
func (db *DB) q(s string) string {
	if !db.dollar {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (db *DB) errf(format string, args ...any) error {
	return fmt.Errorf(db.prefix+": "+format, args...)
}

// PutIndexReport stores the report (data is its JSON) and replaces its
// manifest_index rows, in one transaction: the index never names a report
// that says otherwise.
//
// A report equal to the stored one is not written again: a warm `clairctl
// scan` puts the same report each time, and rewriting its index (thousands
// of rows for a large image) was most of the cost of the put. updated_at
// then stays the time the report last changed, which is what the
// matcher's cache of encoded reports keys on (IndexReportVersion).
func (db *DB) PutIndexReport(ctx context.Context, r *vuln.IndexReport, data []byte, now int64) (err error) {
	var same int
	switch err := db.r.QueryRowContext(ctx, db.q(`SELECT 1 FROM index_report WHERE manifest = ? AND data = ?`), r.ManifestHash, data).Scan(&same); {
	case err == nil:
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return db.errf("put index report %s: %w", r.ManifestHash, err)
	}
	type row struct {
		k    match.Key
		hash string
		b    []byte
	}
	var rows []row
	for k, f := range match.Fragments(r) {
		b, err := json.Marshal(f)
		if err != nil {
			return db.errf("put index report %s: %w", r.ManifestHash, err)
		}
		h := sha256.Sum256(b)
		rows = append(rows, row{k, hex.EncodeToString(h[:]), b})
	}
	// One order for every writer: two instances indexing images that share
	// fragments otherwise take the fragments' row locks in map order, and
	// PostgreSQL finds them deadlocked.
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.k.Namespace, b.k.Namespace), cmp.Compare(a.k.Name, b.k.Name))
	})
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.errf("put index report %s: %w", r.ManifestHash, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err = tx.ExecContext(ctx, db.q(`INSERT INTO index_report (manifest, data, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (manifest) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`),
		r.ManifestHash, data, now); err != nil {
		return db.errf("put index report %s: %w", r.ManifestHash, err)
	}
	if _, err = tx.ExecContext(ctx, db.q(`DELETE FROM manifest_index WHERE manifest = ?`), r.ManifestHash); err != nil {
		return db.errf("put index report %s: index: %w", r.ManifestHash, err)
	}
	if len(rows) > 0 {
		fst, err := tx.PrepareContext(ctx, db.q(`INSERT INTO index_fragment (hash, data) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING`))
		if err != nil {
			return db.errf("put index report %s: index: %w", r.ManifestHash, err)
		}
		defer fst.Close()
		st, err := tx.PrepareContext(ctx, db.q(`INSERT INTO manifest_index (namespace, name, manifest, fragment) VALUES (?, ?, ?, ?)`))
		if err != nil {
			return db.errf("put index report %s: index: %w", r.ManifestHash, err)
		}
		defer st.Close()
		for _, rw := range rows {
			if _, err = fst.ExecContext(ctx, rw.hash, rw.b); err != nil {
				return db.errf("put index report %s: index: %w", r.ManifestHash, err)
			}
			if _, err = st.ExecContext(ctx, rw.k.Namespace, rw.k.Name, r.ManifestHash, rw.hash); err != nil {
				return db.errf("put index report %s: index: %w", r.ManifestHash, err)
			}
		}
	}
	if err = tx.Commit(); err != nil {
		return db.errf("put index report %s: %w", r.ManifestHash, err)
	}
	return nil
}

// keyArgs returns the statement fragment joining the keys as a table k
// (namespace, name) and its arguments, in the dialect. It comes first in
// the statement: its placeholders are the first.
func (db *DB) keyArgs(keys []match.Key) (string, []any, error) {
	if db.dollar {
		ns, names := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			ns[i], names[i] = k.Namespace, k.Name
		}
		return `unnest(?::text[], ?::text[]) AS k (namespace, name)`, []any{ns, names}, nil
	}
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.Namespace, k.Name}
	}
	js, err := json.Marshal(pairs)
	if err != nil {
		return "", nil, err
	}
	return `(SELECT json_extract(value, '$[0]') AS namespace, json_extract(value, '$[1]') AS name FROM json_each(?)) AS k`, []any{string(js)}, nil
}

// IndexedFragments calls fn once with each distinct fragment indexed under
// these keys (its hash and match.Fragments' JSON; data is valid during the
// call only).
func (db *DB) IndexedFragments(ctx context.Context, keys []match.Key, fn func(hash string, data []byte) error) error {
	if len(keys) == 0 {
		return nil
	}
	from, args, err := db.keyArgs(keys)
	if err != nil {
		return db.errf("index fragments: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT f.hash, f.data FROM index_fragment AS f WHERE f.hash IN (
		SELECT DISTINCT i.fragment FROM `+from+` JOIN manifest_index AS i ON i.namespace = k.namespace AND i.name = k.name)`), args...)
	if err != nil {
		return db.errf("index fragments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		var b []byte
		if err := rows.Scan(&h, &b); err != nil {
			return db.errf("index fragments: %w", err)
		}
		if err := fn(h, b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return db.errf("index fragments: %w", err)
	}
	return nil
}

// FragmentManifests calls fn with each (manifest, fragment hash) indexed
// under these keys whose fragment is one of hashes, in manifest order.
func (db *DB) FragmentManifests(ctx context.Context, keys []match.Key, hashes []string, fn func(manifest, hash string) error) error {
	if len(keys) == 0 || len(hashes) == 0 {
		return nil
	}
	from, args, err := db.keyArgs(keys)
	if err != nil {
		return db.errf("fragment manifests: %w", err)
	}
	var in string
	if db.dollar {
		in, args = `i.fragment = ANY(?::text[])`, append(args, hashes)
	} else {
		js, err := json.Marshal(hashes)
		if err != nil {
			return db.errf("fragment manifests: %w", err)
		}
		in, args = `i.fragment IN (SELECT value FROM json_each(?))`, append(args, string(js))
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT i.manifest, i.fragment FROM `+from+`
		JOIN manifest_index AS i ON i.namespace = k.namespace AND i.name = k.name
		WHERE `+in+` ORDER BY i.manifest`), args...)
	if err != nil {
		return db.errf("fragment manifests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m, h string
		if err := rows.Scan(&m, &h); err != nil {
			return db.errf("fragment manifests: %w", err)
		}
		if err := fn(m, h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return db.errf("fragment manifests: %w", err)
	}
	return nil
}

// DeleteUnusedFragments deletes the fragments no index row names (their
// reports were replaced or deleted) and returns how many.
func (db *DB) DeleteUnusedFragments(ctx context.Context) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM index_fragment WHERE NOT EXISTS (
		SELECT 1 FROM manifest_index AS i WHERE i.fragment = index_fragment.hash)`)
	if err != nil {
		return 0, db.errf("delete unused fragments: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PutNotificationSet stores a set and its notifications in one
// transaction. A set for the same operation stored before (by another
// instance) wins: ok is false and nothing is written.
func (db *DB) PutNotificationSet(ctx context.Context, s notify.Set, ns []notify.Notification) (ok bool, err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, db.errf("put notification set %s: %w", s.ID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, db.q(`INSERT INTO notification_set (id, operation, prev, feed, created, count)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (operation) DO NOTHING`),
		s.ID, s.Operation, s.Prev, s.Feed, s.Created.UnixNano(), len(ns))
	if err != nil {
		return false, db.errf("put notification set %s: %w", s.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		_ = tx.Rollback()
		if err != nil {
			return false, db.errf("put notification set %s: %w", s.ID, err)
		}
		return false, nil
	}
	if len(ns) > 0 {
		st, err := tx.PrepareContext(ctx, db.q(`INSERT INTO notification (set_id, seq, data) VALUES (?, ?, ?)`))
		if err != nil {
			return false, db.errf("put notification set %s: %w", s.ID, err)
		}
		defer st.Close()
		for i := range ns {
			b, err := json.Marshal(&ns[i])
			if err != nil {
				return false, db.errf("put notification set %s: %w", s.ID, err)
			}
			if _, err = st.ExecContext(ctx, s.ID, i+1, b); err != nil {
				return false, db.errf("put notification set %s: %w", s.ID, err)
			}
		}
	}
	if err = tx.Commit(); err != nil {
		return false, db.errf("put notification set %s: %w", s.ID, err)
	}
	return true, nil
}

// NotificationSets lists the stored sets, oldest first, with their
// delivery receipts.
func (db *DB) NotificationSets(ctx context.Context) ([]notify.Set, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, operation, prev, feed, created, count, read_at FROM notification_set ORDER BY seq`)
	if err != nil {
		return nil, db.errf("notification sets: %w", err)
	}
	defer rows.Close()
	var out []notify.Set
	idx := map[string]int{}
	for rows.Next() {
		var s notify.Set
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&s.ID, &s.Operation, &s.Prev, &s.Feed, &created, &s.Count, &read); err != nil {
			return nil, db.errf("notification sets: %w", err)
		}
		s.Created = time.Unix(0, created).UTC()
		if read.Valid {
			t := time.Unix(0, read.Int64).UTC()
			s.Read = &t
		}
		idx[s.ID] = len(out)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("notification sets: %w", err)
	}
	rows.Close()
	drows, err := db.r.QueryContext(ctx, `SELECT set_id, deliverer FROM notification_delivery ORDER BY set_id, deliverer`)
	if err != nil {
		return nil, db.errf("notification sets: receipts: %w", err)
	}
	defer drows.Close()
	for drows.Next() {
		var id, d string
		if err := drows.Scan(&id, &d); err != nil {
			return nil, db.errf("notification sets: receipts: %w", err)
		}
		if i, ok := idx[id]; ok {
			out[i].Delivered = append(out[i].Delivered, d)
		}
	}
	if err := drows.Err(); err != nil {
		return nil, db.errf("notification sets: receipts: %w", err)
	}
	return out, nil
}

// NotificationSet returns one set, ErrNotFound (wrapped) if there is none.
func (db *DB) NotificationSet(ctx context.Context, id string) (notify.Set, error) {
	var s notify.Set
	var created int64
	var read sql.NullInt64
	err := db.r.QueryRowContext(ctx, db.q(`SELECT id, operation, prev, feed, created, count, read_at FROM notification_set WHERE id = ?`), id).
		Scan(&s.ID, &s.Operation, &s.Prev, &s.Feed, &created, &s.Count, &read)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s, db.errf("notification set %s: %w", id, store.ErrNotFound)
	case err != nil:
		return s, db.errf("notification set %s: %w", id, err)
	}
	s.Created = time.Unix(0, created).UTC()
	if read.Valid {
		t := time.Unix(0, read.Int64).UTC()
		s.Read = &t
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT deliverer FROM notification_delivery WHERE set_id = ? ORDER BY deliverer`), id)
	if err != nil {
		return s, db.errf("notification set %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return s, db.errf("notification set %s: %w", id, err)
		}
		s.Delivered = append(s.Delivered, d)
	}
	if err := rows.Err(); err != nil {
		return s, db.errf("notification set %s: %w", id, err)
	}
	return s, nil
}

// Notifications returns up to limit notifications of the set after the
// cursor (after 0: from the first), and the cursor of the next page (0
// after the last). A set that does not exist is ErrNotFound.
func (db *DB) Notifications(ctx context.Context, id string, after, limit int) ([]notify.Notification, int, error) {
	if _, err := db.NotificationSet(ctx, id); err != nil {
		return nil, 0, err
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT seq, data FROM notification WHERE set_id = ? AND seq > ? ORDER BY seq LIMIT ?`), id, after, limit+1)
	if err != nil {
		return nil, 0, db.errf("notifications %s: %w", id, err)
	}
	defer rows.Close()
	var out []notify.Notification
	next, last := 0, after
	for rows.Next() {
		var seq int
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return nil, 0, db.errf("notifications %s: %w", id, err)
		}
		if len(out) == limit {
			next = last
			break
		}
		last = seq
		var n notify.Notification
		if err := json.Unmarshal(b, &n); err != nil {
			return nil, 0, db.errf("notifications %s: %d: %w", id, seq, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, db.errf("notifications %s: %w", id, err)
	}
	return out, next, nil
}

// MarkNotificationSetRead records that a client read the set (the
// notifier API's DELETE); ErrNotFound if there is no such set.
func (db *DB) MarkNotificationSetRead(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE notification_set SET read_at = coalesce(read_at, ?) WHERE id = ?`), at.UnixNano(), id)
	if err != nil {
		return db.errf("mark notification set %s read: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return db.errf("mark notification set %s read: %w", id, err)
	} else if n == 0 {
		return db.errf("mark notification set %s read: %w", id, store.ErrNotFound)
	}
	return nil
}

// PutDelivery records a deliverer's acknowledgement of a set (again: no
// error).
func (db *DB) PutDelivery(ctx context.Context, id, deliverer string, at time.Time) error {
	if _, err := db.w.ExecContext(ctx, db.q(`INSERT INTO notification_delivery (set_id, deliverer, delivered_at) VALUES (?, ?, ?)
		ON CONFLICT (set_id, deliverer) DO NOTHING`), id, deliverer, at.UnixNano()); err != nil {
		return db.errf("put delivery %s %s: %w", id, deliverer, err)
	}
	return nil
}

// DeleteNotificationSets deletes these sets with their notifications and
// receipts, and returns how many it deleted.
func (db *DB) DeleteNotificationSets(ctx context.Context, ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM notification_set WHERE id = ?`), id)
		if err != nil {
			return n, db.errf("delete notification set %s: %w", id, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}
