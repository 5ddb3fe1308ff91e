// Package postgres is the production Store: PostgreSQL, shared by every Clair
// instance of a deployment. It passes the same conformance suite
// (store/storetest) as the embedded store/sqlite.
//
// Instances may run side by side: migrations and feed updates take
// transaction-scoped advisory locks, so two instances starting at once, or
// updating the same feed at once, serialize instead of racing. Readers never
// wait: each query sees a committed snapshot.
package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/notifysql"
	"github.com/openclair/clair/vuln"
)

var _ store.Store = (*Store)(nil)

// The notifier's storage comes from the embedded notifysql.DB.
var _ notify.Store = (*Store)(nil)

// Store is the PostgreSQL store. Open it with Open or OpenConfig; it is safe
// for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	lockPool *pgxpool.Pool // the connections that hold locks (lock.go)
	// The notifier's tables: its methods are the store's notify.Store.
	*notifysql.DB
	notifyDB *sql.DB // database/sql over the pool, for notifysql

	mu   sync.Mutex
	held map[*heldLock]struct{} // nil once closed
}

// Open connects to the database connString names (a postgres:// URL or a
// key=value string, as pgx parses it) and brings its schema up to date. The
// tables live in the connection's current schema: set search_path (in the
// string, or with OpenConfig) to keep them apart from other applications'.
func Open(ctx context.Context, connString string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgx's error quotes the string with the password redacted: do
		// not add the string again, unredacted.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a pool configuration the caller built (with
// pgxpool.ParseConfig), for settings a connection string cannot express.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	if cfg == nil {
		return nil, errors.New("postgres: open: nil config")
	}
	// The matcher's query (advisoriesQuery) must descend advisory_lookup once
	// per package name. With the default random_page_cost (4, a spinning
	// disk's) the planner rather reads every row of the namespace and
	// filters: 5× the pages and 5× the time on a Debian feed
	// (storetest.Bench, Advisories). The advisory pages a match reads are hot in
	// shared buffers or on SSD, where a random read costs about a
	// sequential one; 1.1 is the usual SSD setting. A value in the
	// connection string wins. (A copy: the caller's config stays as it was.)
	cfg = cfg.Copy()
	if _, ok := cfg.ConnConfig.RuntimeParams["random_page_cost"]; !ok {
		cfg.ConnConfig.RuntimeParams["random_page_cost"] = "1.1"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// NewWithConfig connects lazily: ping so that a wrong address or
	// password fails here, not at the first query.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	// Lazy: no connection until the first lock.
	lockPool, err := pgxpool.NewWithConfig(ctx, lockPoolConfig(cfg))
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: lock pool: %w", err)
	}
	s := &Store{pool: pool, lockPool: lockPool, held: map[*heldLock]struct{}{}}
	s.notifyDB = stdlib.OpenDBFromPool(pool)
	s.DB = notifysql.New(s.notifyDB, s.notifyDB, "postgres", true)
	return s, nil
}

// Close releases the store's locks and closes the pools, waiting for the
// connections in use to be returned.
func (s *Store) Close() error {
	s.releaseAll()
	s.notifyDB.Close()
	s.lockPool.Close()
	s.pool.Close()
	return nil
}

// LayerScan implements store.Store.
func (s *Store) LayerScan(ctx context.Context, layer, scanner, version string) ([]byte, bool, error) {
	var data []byte
	err := s.pool.QueryRow(ctx,
		`SELECT data FROM layer_scan WHERE layer = $1 AND scanner = $2 AND version = $3`,
		layer, scanner, version).Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("postgres: layer scan %s %s/%s: %w", layer, scanner, version, err)
	}
	if data == nil { // an empty bytea; ok says it was found
		data = []byte{}
	}
	return data, true, nil
}

// PutLayerScan implements store.Store.
func (s *Store) PutLayerScan(ctx context.Context, layer, scanner, version string, data []byte) error {
	if data == nil {
		data = []byte{} // NOT NULL: nil data is an empty result, not a missing one
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO layer_scan (layer, scanner, version, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (layer, scanner, version) DO UPDATE SET data = excluded.data`,
		layer, scanner, version, data)
	if err != nil {
		return fmt.Errorf("postgres: put layer scan %s %s/%s: %w", layer, scanner, version, err)
	}
	return nil
}

// PutIndexReport implements store.Store.
func (s *Store) PutIndexReport(ctx context.Context, r *vuln.IndexReport) error {
	if r == nil {
		return errors.New("postgres: put index report: nil report")
	}
	if r.ManifestHash == "" {
		return errors.New("postgres: put index report: empty manifest hash")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("postgres: put index report %s: %w", r.ManifestHash, err)
	}
	// With the notifier's index of the report's packages (notify.go).
	return s.DB.PutIndexReport(ctx, r, b, now().UnixNano())
}

// IndexReport implements store.Store.
func (s *Store) IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM index_report WHERE manifest = $1`, manifest).Scan(&b)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("postgres: index report %s: %w", manifest, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("postgres: index report %s: %w", manifest, err)
	}
	var r vuln.IndexReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("postgres: index report %s: %w", manifest, err)
	}
	return &r, nil
}

// Store timestamps are Unix nanoseconds. now is rounded through that form so
// that what a call returns equals what a later read returns.
func now() time.Time { return fromNanos(time.Now().UnixNano()) }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
