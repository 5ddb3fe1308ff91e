package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Locks are PostgreSQL session advisory locks, so that they bind every
// instance on the database, and each is held on a connection of its own,
// kept out of the pool until unlock: the server releases a session's locks
// when its connection ends, so a crashed or cut-off instance cannot keep a
// lock. The connections come from a pool of their own (lockPool), so that
// held locks never starve queries of connections, nor queries locks.

// lockConns bounds the locks one Store holds at once (each is a server
// connection): enough for the updaters and the manifests being indexed.
// Beyond it TryLock and Lock wait for a connection, as long as ctx allows.
const lockConns = 32

// lockPoolConfig derives the lock pool's configuration from the store's.
func lockPoolConfig(cfg *pgxpool.Config) *pgxpool.Config {
	lc := cfg.Copy()
	lc.MaxConns = lockConns
	lc.MinConns = 0
	lc.MinIdleConns = 0
	// A lock's connection lives as long as the lock, however old it gets.
	// Idle ones are few and go soon.
	lc.MaxConnLifetime = 0
	lc.MaxConnIdleTime = time.Minute
	// A cancelled pg_advisory_lock must leave the server's wait queue, not
	// wait on there (and then briefly hold the lock) because the client
	// hung up: ask the server to cancel it, and cut the connection only if
	// it does not answer.
	lc.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	return lc
}

// lockID maps a key to the 64-bit advisory lock id: the first 8 bytes of its
// SHA-256, so that ids spread over the whole space (ReplaceFeed's and
// migrate's transaction locks use 32-bit hashtext ids; a clash with them is as
// unlikely as any other).
func lockID(key string) int64 {
	h := sha256.Sum256([]byte("clair lock\x00" + key))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// heldLock is one held lock and the connection that holds it.
type heldLock struct {
	once sync.Once
	conn *pgxpool.Conn
	id   int64
}

// errClosed is returned for a lock asked of a closed store.
var errClosed = errors.New("store closed")

// TryLock implements store.Locker.
func (s *Store) TryLock(ctx context.Context, key string) (unlock func(), ok bool, err error) {
	unlock, err = s.lock(ctx, key, `SELECT pg_try_advisory_lock($1)`)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: try lock %q: %w", key, err)
	}
	return unlock, unlock != nil, nil
}

// Lock implements store.Locker. The server queues the waiters.
func (s *Store) Lock(ctx context.Context, key string) (func(), error) {
	unlock, err := s.lock(ctx, key, `SELECT true FROM pg_advisory_lock($1)`)
	if err != nil {
		return nil, fmt.Errorf("postgres: lock %q: %w", key, err)
	}
	return unlock, nil
}

// lock runs query, which answers whether it took the lock, on a connection
// of its own; nil unlock is a lock held elsewhere.
func (s *Store) lock(ctx context.Context, key, query string) (unlock func(), err error) {
	conn, err := s.lockPool.Acquire(ctx)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	id := lockID(key)
	var ok bool
	if err := conn.QueryRow(ctx, query, id).Scan(&ok); err != nil {
		// The server may have granted the lock just as ctx ended or
		// the link broke: only ending the session is sure to free it.
		discard(conn)
		return nil, ctxErr(ctx, err)
	}
	if !ok {
		conn.Release()
		return nil, nil
	}
	h := &heldLock{conn: conn, id: id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil { // closed meanwhile
		h.free(false)
		return nil, errClosed
	}
	s.held[h] = struct{}{}
	return func() {
		s.mu.Lock()
		delete(s.held, h)
		s.mu.Unlock()
		h.free(true)
	}, nil
}

// free releases the lock once. With unlock it tells the server and returns
// the connection to the pool; without (or if that fails) it ends the
// session, which frees the lock too.
func (h *heldLock) free(unlock bool) {
	h.once.Do(func() {
		if !unlock {
			discard(h.conn)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var ok bool
		if err := h.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, h.id).Scan(&ok); err != nil || !ok {
			discard(h.conn)
			return
		}
		h.conn.Release()
	})
}

// discard closes a lock connection rather than return it to the pool.
func discard(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Hijack().Close(ctx) // the session ends either way
}

// releaseAll frees the store's locks for good: Close. Their sessions end,
// so another instance may take them at once.
func (s *Store) releaseAll() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for h := range held {
		h.free(false)
	}
}
