package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Locks are process-local: the embedded store serves one process (clairctl,
// or one clair), and SQLite offers no lock that dies with its holder short of
// the file locks it uses itself. They are kept per database file, so that two
// Stores opened on one file in one process exclude each other as two
// instances on one PostgreSQL database do.
var locks = struct {
	mu   sync.Mutex
	held map[lockKey]*heldLock
}{held: map[lockKey]*heldLock{}}

type lockKey struct{ db, key string }

type heldLock struct {
	owner *Store
	freed chan struct{} // closed when released: Lock's waiters retry
}

// errClosed is returned for a lock asked of a closed store.
var errClosed = errors.New("store closed")

// TryLock implements store.Locker.
func (s *Store) TryLock(ctx context.Context, key string) (unlock func(), ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlite: try lock %q: %w", key, err)
	}
	unlock, _, err = s.tryLock(key)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: try lock %q: %w", key, err)
	}
	return unlock, unlock != nil, nil
}

// Lock implements store.Locker.
func (s *Store) Lock(ctx context.Context, key string) (func(), error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: lock %q: %w", key, err)
		}
		unlock, freed, err := s.tryLock(key)
		switch {
		case err != nil:
			return nil, fmt.Errorf("sqlite: lock %q: %w", key, err)
		case unlock != nil:
			return unlock, nil
		}
		select {
		case <-freed: // every waiter retries; one wins, the rest wait again
		case <-ctx.Done():
		}
	}
}

// tryLock takes the lock, or returns the channel its holder closes on
// release.
func (s *Store) tryLock(key string) (unlock func(), freed <-chan struct{}, err error) {
	k := lockKey{s.path, key}
	locks.mu.Lock()
	defer locks.mu.Unlock()
	if s.held == nil {
		return nil, nil, errClosed
	}
	if h, ok := locks.held[k]; ok {
		return nil, h.freed, nil
	}
	h := &heldLock{owner: s, freed: make(chan struct{})}
	locks.held[k] = h
	s.held[k] = h
	return func() {
		locks.mu.Lock()
		defer locks.mu.Unlock()
		release(k, h)
	}, nil, nil
}

// release frees h if it still holds k (unlock may run twice, or after
// Close). locks.mu must be held.
func release(k lockKey, h *heldLock) {
	if locks.held[k] != h {
		return
	}
	delete(locks.held, k)
	delete(h.owner.held, k)
	close(h.freed)
}

// releaseAll frees the store's locks for good: Close.
func (s *Store) releaseAll() {
	locks.mu.Lock()
	defer locks.mu.Unlock()
	for k, h := range s.held {
		release(k, h)
	}
	s.held = nil
}
