// Package store defines the Store, the only door to persistent data. The
// embedded default is store/sqlite; store/postgres serves production. Both
// pass the conformance suite in store/storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/openclair/clair/vuln"
)

// ErrNotFound is returned (wrapped) for a missing index report or feed.
var ErrNotFound = errors.New("store: not found")

// Store is everything the indexer, the updaters and the matcher keep.
type Store interface {
	// LayerScan returns what a scanner (name, version) found in a layer,
	// as the opaque bytes PutLayerScan stored; ok is false when that layer
	// was never scanned by that scanner version.
	LayerScan(ctx context.Context, layer, scanner, version string) (data []byte, ok bool, err error)
	PutLayerScan(ctx context.Context, layer, scanner, version string, data []byte) error

	// PutIndexReport stores (or replaces) the report of a manifest.
	PutIndexReport(ctx context.Context, r *vuln.IndexReport) error
	// IndexReport returns ErrNotFound for a manifest never indexed.
	IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error)
	DeleteIndexReport(ctx context.Context, manifest string) error

	// FeedState returns ErrNotFound for a feed never updated.
	FeedState(ctx context.Context, feed string) (FeedState, error)
	// ReplaceFeed replaces the feed's advisories with what load emits, in one
	// transaction: if load (or anything else) fails, the previous snapshot is
	// left in place untouched. Advisories are written in bulk.
	ReplaceFeed(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Advisory) error) error) (UpdateOperation, error)
	// FeedStates lists every feed's state, sorted by name. Its operations
	// change whenever any snapshot is replaced, so the matcher uses it as a
	// cheap generation check for its cache of advisories.
	FeedStates(ctx context.Context) ([]FeedState, error)
	// TouchFeed records that the feed was checked and found unchanged.
	TouchFeed(ctx context.Context, feed string) error

	// Advisories returns the advisories of every feed for these package names
	// in the namespace, without their details (Description, Links, Issued
	// and Aliases are empty): matching needs only the ranges.
	Advisories(ctx context.Context, namespace string, packages []string) ([]*vuln.Advisory, error)
	// Details fills Description, Links, Issued and Aliases of the
	// advisories, looked up by (Feed, Name).
	Details(ctx context.Context, advs []*vuln.Advisory) error

	Close() error
}

// FeedState is what the store knows of a feed's last update.
type FeedState struct {
	Feed        string
	Fingerprint string
	UpdatedAt   time.Time // when the stored snapshot was written
	CheckedAt   time.Time // when upstream was last asked
	Advisories  int
	Operation   string // id of the update operation that wrote the snapshot
}

// UpdateOperation records one snapshot replacement.
type UpdateOperation struct {
	ID          string // a UUID
	Feed        string
	Fingerprint string
	Date        time.Time
	Advisories  int
}
