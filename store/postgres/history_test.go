package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openclair/clair/store/storetest"
)

// TestLocksAcrossStores: two stores on one database, as two instances: the
// second cannot take what the first holds, waits for it in Lock (or gives up
// with its ctx), and gets it when the first unlocks or closes.
func TestLocksAcrossStores(t *testing.T) {
	cfg := testSchema(t)
	ctx := t.Context()
	a, b := openCfg(t, cfg), openCfg(t, cfg)

	unlock, ok, err := a.TryLock(ctx, "feed:debian")
	if err != nil || !ok {
		t.Fatalf("a.TryLock = %v, %v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, "feed:debian"); err != nil || ok {
		t.Fatalf("b.TryLock while a holds it = %v, %v; want false", ok, err)
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := b.Lock(tctx, "feed:debian"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b.Lock with a deadline: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("b.Lock took %v to honour a 200ms deadline", d)
	}
	unlock()
	unlock2, ok, err := b.TryLock(ctx, "feed:debian")
	if err != nil || !ok {
		t.Fatalf("b.TryLock after a unlocked = %v, %v; want the lock", ok, err)
	}
	// The cancelled waiter left no trace: a's connections are free and
	// nothing waits in the server's queue.
	got := make(chan error, 1)
	go func() {
		u, err := a.Lock(ctx, "feed:debian")
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a.Lock returned (%v) while b holds the lock", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock2()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("a.Lock after b unlocked: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a.Lock still waiting 10s after b unlocked")
	}

	// Closing a store frees its locks.
	c := openCfg(t, cfg)
	if _, ok, err := c.TryLock(ctx, "manifest:sha256:1"); err != nil || !ok {
		t.Fatalf("c.TryLock = %v, %v", ok, err)
	}
	if _, ok, err := a.TryLock(ctx, "manifest:sha256:1"); err != nil || ok {
		t.Fatalf("a.TryLock while c holds it = %v, %v; want false", ok, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	u, err := a.Lock(ctx, "manifest:sha256:1")
	if err != nil {
		t.Fatalf("a.Lock after c closed: %v", err)
	}
	u()
	if _, _, err := c.TryLock(ctx, "x"); err == nil {
		t.Fatal("TryLock on a closed store succeeded")
	}
}

// TestLockConnectionDies: the server frees a lock whose connection ends,
// and the holder's unlock afterwards harms nobody.
func TestLockConnectionDies(t *testing.T) {
	cfg := testSchema(t)
	ctx := t.Context()
	a, b := openCfg(t, cfg), openCfg(t, cfg)
	unlock, ok, err := a.TryLock(ctx, "feed:osv")
	if err != nil || !ok {
		t.Fatalf("a.TryLock = %v, %v", ok, err)
	}
	id := lockID("feed:osv")
	var n int
	if err := b.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = ($1::bigint >> 32)::bigint::oid
		AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1 AND granted`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d sessions hold the lock, want 1", n)
	}
	var unlockB func()
	for deadline := time.Now().Add(10 * time.Second); ; {
		u, ok, err := b.TryLock(ctx, "feed:osv")
		if err != nil {
			t.Fatalf("b.TryLock: %v", err)
		}
		if ok {
			unlockB = u
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lock still held 10s after its session was terminated")
		}
		time.Sleep(20 * time.Millisecond)
	}
	unlock() // its connection is gone: nothing to do, and b keeps the lock
	if _, ok, err := a.TryLock(ctx, "feed:osv"); err != nil || ok {
		t.Fatalf("a.TryLock while b holds it = %v, %v; want false", ok, err)
	}
	unlockB()
}

// TestMigrateHistory upgrades a schema written by 0001 alone: its operations
// keep their order, have no snapshot to diff, and are collected.
func TestMigrateHistory(t *testing.T) {
	cfg := testSchema(t)
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version integer NOT NULL PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
		ms[0].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init', 0)`,
		// Inserted out of date order: the upgrade orders by date.
		`INSERT INTO update_operation VALUES ('op-2', 'debian', 'fp2', 2000, 1)`,
		`INSERT INTO update_operation VALUES ('op-1', 'debian', 'fp1', 1000, 1)`,
		`INSERT INTO feed VALUES ('debian', 'fp2', 2000, 2000, 1, 'op-2')`,
	} {
		if _, err := conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)

	s := openCfg(t, cfg)
	storetest.UpgradedHistory(t, s)
}
