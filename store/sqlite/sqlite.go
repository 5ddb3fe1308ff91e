// Package sqlite is the embedded Store: one file, no server, safe for
// concurrent use by the goroutines of one process (and, through SQLite's
// locks, by several processes).
//
// It keeps two connection pools on the file. Writes go through a single
// connection: SQLite admits one writer at a time, and queueing writers in Go
// (where they honour their context) beats having them spin on SQLITE_BUSY.
// Reads use a pool of read-only connections; in WAL mode they never wait for
// the writer and each query sees a committed snapshot.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/notifysql"
	"github.com/openclair/clair/vuln"
)

var _ store.Store = (*Store)(nil)

// The notifier's storage comes from the embedded notifysql.DB.
var _ notify.Store = (*Store)(nil)

// Store is the SQLite store. Open it with Open; it is safe for concurrent use.
type Store struct {
	w *sql.DB // the one writer connection
	r *sql.DB // read-only pool

	// Prepared on r: the matcher's queries.
	advisories, detailsStmt, briefStmt *sql.Stmt

	// The notifier's tables: its methods are the store's notify.Store.
	*notifysql.DB
	path string                // absolute: the key of the process-local locks
	held map[lockKey]*heldLock // this store's locks, nil once closed (under locks.mu)
}

// Pragmas every connection gets. busy_timeout comes first (the driver sorts it
// so) because another process may hold the lock while the rest run; 10 s covers
// a feed update in another process committing. synchronous=NORMAL is durable
// enough in WAL mode (a power loss may drop the last commits, never corrupt).
// foreign_keys is off by default in SQLite, and a later migration that
// declares a foreign key should not find it silently unenforced.
var commonPragmas = []string{
	"busy_timeout(10000)",
	"foreign_keys(on)",
	"synchronous(NORMAL)",
}

// DefaultPath is where the database lives when the user names none:
// $XDG_CACHE_HOME/clair/clair.db (or the platform's cache directory). It is a
// cache: everything in it can be fetched or indexed again.
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("sqlite: default path: %w", err)
	}
	return filepath.Join(dir, "clair", "clair.db"), nil
}

// Open opens the database file at path, creating it and its parent directory
// if needed, and brings its schema up to date. path must name a file (SQLite's
// ":memory:" would give every connection its own database).
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// 0700: index reports describe private images.
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	// The writer sets WAL (persistent in the file, so the readers need not),
	// and begins its transactions IMMEDIATE: a deferred transaction that reads
	// and then writes can fail with SQLITE_BUSY when another process wrote in
	// between, which busy_timeout cannot cure. The big cache helps bulk inserts
	// into the clustered advisory table.
	w, err := sql.Open("sqlite", dsn(abs, slices.Concat(commonPragmas, []string{
		"journal_mode(WAL)",
		"journal_size_limit(67108864)", // truncate the WAL after a big update
		"cache_size(-131072)",          // 128 MiB
		// On disk: ReplaceFeed stages a snapshot's details in
		// temporary tables, hundreds of megabytes for OSV.
		"temp_store(FILE)",
	}), "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}

	r, err := sql.Open("sqlite", dsn(abs, slices.Concat(commonPragmas, []string{
		// 32 MiB per reader: a namespace's advisory rows and the
		// details a match asks for stay in memory. Pages are allocated
		// as read, so a CLI run pays for what it touches.
		"cache_size(-32768)",
		// The temporary b-trees of reads (sorts, IN lists) are small:
		// off the disk.
		"temp_store(MEMORY)",
		"query_only(on)", // a bug cannot write through the read pool
		"mmap_size(1073741824)",
	}), ""))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n) // reconnecting costs the pragmas and a cold cache
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)

	s := &Store{w: w, r: r, path: abs, held: map[lockKey]*heldLock{}}
	s.DB = notifysql.New(w, r, "sqlite", false)
	if s.advisories, err = r.PrepareContext(ctx, advisoriesQuery); err == nil {
		if s.detailsStmt, err = r.PrepareContext(ctx, detailsQuery); err == nil {
			s.briefStmt, err = r.PrepareContext(ctx, briefQuery)
		}
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: prepare: %w", path, err)
	}
	return s, nil
}

// dsn builds a modernc.org/sqlite URI for the file: the path is escaped (a '?'
// or '#' in it must not start the query) and each pragma runs on every new
// connection.
func dsn(abs string, pragmas []string, extra string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") { // C:/x on Windows
		p = "/" + p
	}
	u := url.URL{Scheme: "file", Path: p}
	q := make([]string, 0, len(pragmas)+1)
	for _, pr := range pragmas {
		q = append(q, "_pragma="+url.QueryEscape(pr))
	}
	if extra != "" {
		q = append(q, extra)
	}
	return u.String() + "?" + strings.Join(q, "&")
}

// Close releases the store's locks and closes both pools.
func (s *Store) Close() error {
	s.releaseAll()
	var errs []error
	for _, st := range []*sql.Stmt{s.advisories, s.detailsStmt, s.briefStmt} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.r.Close(), s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// LayerScan implements store.Store.
func (s *Store) LayerScan(ctx context.Context, layer, scanner, version string) ([]byte, bool, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx,
		`SELECT data FROM layer_scan WHERE layer = ? AND scanner = ? AND version = ?`,
		layer, scanner, version).Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("sqlite: layer scan %s %s/%s: %w", layer, scanner, version, err)
	}
	if data == nil { // a zero-length BLOB; ok says it was found
		data = []byte{}
	}
	return data, true, nil
}

// PutLayerScan implements store.Store.
func (s *Store) PutLayerScan(ctx context.Context, layer, scanner, version string, data []byte) error {
	if data == nil {
		data = []byte{} // NOT NULL: nil data is an empty result, not a missing one
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO layer_scan (layer, scanner, version, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (layer, scanner, version) DO UPDATE SET data = excluded.data`,
		layer, scanner, version, data)
	if err != nil {
		return fmt.Errorf("sqlite: put layer scan %s %s/%s: %w", layer, scanner, version, err)
	}
	return nil
}

// PutIndexReport implements store.Store.
func (s *Store) PutIndexReport(ctx context.Context, r *vuln.IndexReport) error {
	if r == nil {
		return errors.New("sqlite: put index report: nil report")
	}
	if r.ManifestHash == "" {
		return errors.New("sqlite: put index report: empty manifest hash")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("sqlite: put index report %s: %w", r.ManifestHash, err)
	}
	// With the notifier's index of the report's packages (notify.go).
	return s.DB.PutIndexReport(ctx, r, b, now().UnixNano())
}

// IndexReport implements store.Store.
func (s *Store) IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM index_report WHERE manifest = ?`, manifest).Scan(&b)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlite: index report %s: %w", manifest, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlite: index report %s: %w", manifest, err)
	}
	var r vuln.IndexReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("sqlite: index report %s: %w", manifest, err)
	}
	return &r, nil
}
