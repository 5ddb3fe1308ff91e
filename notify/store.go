package notify

import (
	"context"
	"time"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
)

// Store is what the notifier keeps and reads: both store/sqlite and
// store/postgres implement it (store/storetest checks them).
type Store interface {
	match.Store
	FeedStates(ctx context.Context) ([]store.FeedState, error)
	UpdateOperations(ctx context.Context, feeds ...string) (map[string][]store.UpdateOperation, error)
	UpdateDiff(ctx context.Context, prev, cur string) (*store.UpdateDiff, error)
	store.Locker

	// IndexedFragments calls fn once with each distinct fragment
	// (match.Fragments, as JSON, and its hash) that the index holds under
	// these keys: the index PutIndexReport writes and deleting the report
	// removes. data is valid during the call only.
	IndexedFragments(ctx context.Context, keys []match.Key, fn func(hash string, data []byte) error) error
	// FragmentManifests calls fn with each (manifest, fragment hash)
	// indexed under these keys whose fragment is one of hashes, in
	// manifest order.
	FragmentManifests(ctx context.Context, keys []match.Key, hashes []string, fn func(manifest, hash string) error) error
	// DeleteUnusedFragments deletes fragments no index row names.
	DeleteUnusedFragments(ctx context.Context) (int, error)

	// PutNotificationSet stores a set with its notifications, atomically.
	// ok is false, and nothing is written, when a set for the same update
	// operation exists already (another instance computed it).
	PutNotificationSet(ctx context.Context, s Set, ns []Notification) (ok bool, err error)
	// NotificationSets lists every set, oldest first, with its receipts.
	NotificationSets(ctx context.Context) ([]Set, error)
	// NotificationSet returns store.ErrNotFound (wrapped) for an unknown id.
	NotificationSet(ctx context.Context, id string) (Set, error)
	// Notifications pages a set: up to limit notifications after the
	// cursor (0: from the start), and the cursor of the next page (0:
	// none). store.ErrNotFound for an unknown set.
	Notifications(ctx context.Context, id string, after, limit int) ([]Notification, int, error)
	// MarkNotificationSetRead records a client's DELETE; store.ErrNotFound
	// for an unknown set. The first time stands.
	MarkNotificationSetRead(ctx context.Context, id string, at time.Time) error
	// PutDelivery records a deliverer's acknowledgement (idempotent).
	PutDelivery(ctx context.Context, id, deliverer string, at time.Time) error
	// DeleteNotificationSets deletes sets with their notifications and
	// receipts.
	DeleteNotificationSets(ctx context.Context, ids []string) (int, error)
}
