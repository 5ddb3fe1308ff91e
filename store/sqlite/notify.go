package sqlite

import (
	"context"
	"time"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/notify"
)

// The notifier's storage is written once, for both stores, in
// store/internal/notifysql; these methods hand it the store's database.

// IndexedFragments implements notify.Store.
func (s *Store) IndexedFragments(ctx context.Context, keys []match.Key, fn func(hash string, data []byte) error) error {
	return s.nq.IndexedFragments(ctx, keys, fn)
}

// FragmentManifests implements notify.Store.
func (s *Store) FragmentManifests(ctx context.Context, keys []match.Key, hashes []string, fn func(manifest, hash string) error) error {
	return s.nq.FragmentManifests(ctx, keys, hashes, fn)
}

// DeleteUnusedFragments implements notify.Store.
func (s *Store) DeleteUnusedFragments(ctx context.Context) (int, error) {
	return s.nq.DeleteUnusedFragments(ctx)
}

// PutNotificationSet implements notify.Store.
func (s *Store) PutNotificationSet(ctx context.Context, set notify.Set, ns []notify.Notification) (bool, error) {
	return s.nq.PutNotificationSet(ctx, set, ns)
}

// NotificationSets implements notify.Store.
func (s *Store) NotificationSets(ctx context.Context) ([]notify.Set, error) {
	return s.nq.NotificationSets(ctx)
}

// NotificationSet implements notify.Store.
func (s *Store) NotificationSet(ctx context.Context, id string) (notify.Set, error) {
	return s.nq.NotificationSet(ctx, id)
}

// Notifications implements notify.Store.
func (s *Store) Notifications(ctx context.Context, id string, after, limit int) ([]notify.Notification, int, error) {
	return s.nq.Notifications(ctx, id, after, limit)
}

// MarkNotificationSetRead implements notify.Store.
func (s *Store) MarkNotificationSetRead(ctx context.Context, id string, at time.Time) error {
	return s.nq.MarkNotificationSetRead(ctx, id, at)
}

// PutDelivery implements notify.Store.
func (s *Store) PutDelivery(ctx context.Context, id, deliverer string, at time.Time) error {
	return s.nq.PutDelivery(ctx, id, deliverer, at)
}

// DeleteNotificationSets implements notify.Store.
func (s *Store) DeleteNotificationSets(ctx context.Context, ids []string) (int, error) {
	return s.nq.DeleteNotificationSets(ctx, ids)
}
