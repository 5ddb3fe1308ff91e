package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
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
	path := filepath.Join(t.TempDir(), "clair.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, commonPragmas, ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		ms[0].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init', 0)`,
		// Inserted out of date order: the upgrade orders by date.
		`INSERT INTO update_operation VALUES ('op-2', 'debian', 'fp2', 2000, 1)`,
		`INSERT INTO update_operation VALUES ('op-1', 'debian', 'fp1', 1000, 1)`,
		`INSERT INTO feed VALUES ('debian', 'fp2', 2000, 2000, 1, 'op-2')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a 0001 database: %v", err)
	}
	defer s.Close()
	ops, err := s.UpdateOperations(ctx)
	if err != nil || len(ops["debian"]) != 2 || ops["debian"][0].ID != "op-2" || ops["debian"][1].ID != "op-1" {
		t.Fatalf("UpdateOperations after upgrade = %+v, %v; want op-2, op-1", ops, err)
	}
	if _, err := s.UpdateDiff(ctx, "", "op-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateDiff of an operation without snapshot: %v, want ErrNotFound", err)
	}
	op, err := s.ReplaceFeed(ctx, "debian", "fp3", func(emit func(*vuln.Advisory) error) error {
		return emit(&vuln.Advisory{Name: "CVE-1", Namespace: "debian:12", Package: "p"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if ops, err := s.UpdateOperations(ctx, "debian"); err != nil || ops["debian"][0].ID != op.ID {
		t.Fatalf("UpdateOperations after an update = %+v, %v; want %s first", ops, err, op.ID)
	}
	if _, err := s.UpdateDiff(ctx, "op-2", op.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateDiff from an operation without snapshot: %v, want ErrNotFound", err)
	}
	if d, err := s.UpdateDiff(ctx, "", op.ID); err != nil || len(d.Added) != 1 {
		t.Fatalf("UpdateDiff of the new operation = %+v, %v", d, err)
	}
	if n, err := s.GC(ctx, 1); err != nil || n != 2 {
		t.Fatalf("GC(1) = %d, %v; want 2", n, err)
	}
}
