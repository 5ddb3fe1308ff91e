package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclair/clair/store/storetest"
)

// TestLocksAcrossStores: two stores on one file in one process exclude each
// other, and closing a store frees its locks (and wakes a waiter).
func TestLocksAcrossStores(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "clair.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, filepath.Join(t.TempDir(), "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	unlock, ok, err := a.TryLock(ctx, "k")
	if err != nil || !ok {
		t.Fatalf("a.TryLock = %v, %v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, "k"); err != nil || ok {
		t.Fatalf("b.TryLock while a holds it = %v, %v; want false", ok, err)
	}
	// Another file is another set of locks.
	if u, ok, err := other.TryLock(ctx, "k"); err != nil || !ok {
		t.Fatalf("TryLock on another file = %v, %v; want the lock", ok, err)
	} else {
		u()
	}
	unlock()
	if _, ok, err := b.TryLock(ctx, "k"); err != nil || !ok {
		t.Fatalf("b.TryLock after unlock = %v, %v; want the lock", ok, err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := a.Lock(ctx, "k")
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a.Lock returned (%v) while b holds the lock", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("a.Lock after b closed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a.Lock still waiting after b closed")
	}
	if _, _, err := b.TryLock(ctx, "k2"); err == nil {
		t.Fatal("TryLock on a closed store succeeded")
	}
}

// TestMigrateHistory upgrades a database written by 0001 alone: its
// operations keep their order, have no snapshot to diff, and are collected.
func TestMigrateHistory(t *testing.T) {
	ctx := t.Context()
	path := oldDatabase(t, 1,
		// Inserted out of date order: the upgrade orders by date.
		[]any{`INSERT INTO update_operation VALUES ('op-2', 'debian', 'fp2', 2000, 1)`},
		[]any{`INSERT INTO update_operation VALUES ('op-1', 'debian', 'fp1', 1000, 1)`},
		[]any{`INSERT INTO feed VALUES ('debian', 'fp2', 2000, 2000, 1, 'op-2')`},
	)

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a 0001 database: %v", err)
	}
	defer s.Close()
	storetest.UpgradedHistory(t, s)
}

// oldDatabase writes a database file with the migrations up to version
// last applied, then runs stmts (each a statement and its arguments), and
// returns its path: what an older clairctl left behind.
func oldDatabase(t *testing.T, last int, stmts ...[]any) string {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "clair.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, commonPragmas, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := [][]any{{`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`}}
	for _, m := range ms {
		if m.version <= last {
			q = append(q, []any{m.sql}, []any{`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name})
		}
	}
	for _, st := range append(q, stmts...) {
		if _, err := db.ExecContext(ctx, st[0].(string), st[1:]...); err != nil {
			t.Fatalf("%.60s: %v", st[0], err)
		}
	}
	return path
}
