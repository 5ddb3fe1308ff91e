// Package store defines the Store, the only door to persistent data. The
// embedded default is store/sqlite; store/postgres serves production. Both
// pass the conformance suite in store/storetest.
package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/openclair/clair/vuln"
)

// ErrNotFound is returned (wrapped) for a missing index report, feed or
// update operation.
var ErrNotFound = errors.New("store: not found")

// ErrInvalid is returned (wrapped) for arguments that cannot go together,
// such as a diff of two operations of different feeds: the caller's mistake
// (HTTP 400), not a missing thing.
var ErrInvalid = errors.New("store: invalid argument")

// Store is everything the indexer, the updaters and the matcher keep: the
// composition of the roles below, each declared for the users that need it
// (as claircore's indexer store is Setter, Querier and Indexer). Both
// backends implement every role, and store/storetest checks each of them on
// both; a capability only some backends have is a separate, named optional
// interface (PoolStater), never an anonymous type assertion.
type Store interface {
	LayerCache
	IndexReports
	Feeds
	History
	Locker
	AdvisoryReader
	Catalog
	EnrichmentStore
	Pinger

	Close() error
}

// LayerCache keeps what each scanner found in each layer, so that a layer
// shared by many images is scanned once per scanner version.
type LayerCache interface {
	// LayerScan returns what a scanner (name, version) found in a layer,
	// as the opaque bytes PutLayerScan stored; ok is false when that layer
	// was never scanned by that scanner version.
	LayerScan(ctx context.Context, layer, scanner, version string) (data []byte, ok bool, err error)
	PutLayerScan(ctx context.Context, layer, scanner, version string, data []byte) error
}

// IndexReports keeps one index report per manifest: the indexer writes
// and deletes them, the matcher and the web page read them.
type IndexReports interface {
	// PutIndexReport stores (or replaces) the report of a manifest. A
	// report equal to the stored one changes nothing, its version included.
	PutIndexReport(ctx context.Context, r *vuln.IndexReport) error
	// IndexReport returns ErrNotFound for a manifest never indexed.
	IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error)
	// DeleteIndexReports deletes the reports of these manifests in one
	// statement and returns those that existed, in the order given (each
	// once): the indexer API deletes lists and answers with what it
	// deleted.
	DeleteIndexReports(ctx context.Context, manifests []string) (deleted []string, err error)
	// IndexReportVersion returns when the manifest's report was last
	// written (ErrNotFound for none), without reading it: the matcher keys
	// its cache of encoded reports on it, so that a request for a cached
	// report need not decode the index report at all. A changed report gives
	// a different version.
	IndexReportVersion(ctx context.Context, manifest string) (int64, error)
	// Manifests lists up to limit (> 0, else ErrInvalid) stored index
	// reports, newest first, for the web page's list of indexed images.
	Manifests(ctx context.Context, limit int) ([]ManifestInfo, error)
}

// Feeds keeps each feed's current snapshot of advisories and its state:
// the updaters replace snapshots, everyone reads the states.
type Feeds interface {
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
}

// History keeps the update operations that replaced feeds' snapshots, and
// the snapshots themselves, for the update diff API and clairctl.
type History interface {
	// UpdateOperations lists the update operations of these feeds (of every
	// feed when none is given), newest first, keyed by feed; a feed without
	// operations has no key. Newest is the order the store wrote them in,
	// not their Date: instances' clocks may disagree.
	UpdateOperations(ctx context.Context, feeds ...string) (map[string][]UpdateOperation, error)
	// UpdateDiff says what changed in a feed between two of its update
	// operations: the advisories of cur's snapshot that prev's lacks
	// (Added) and the reverse (Removed), with their details. Advisories
	// compare by content, every field and their details included, so one
	// whose fix changed is one removed and one added. prev "" is the empty
	// snapshot: all of cur is added. ReplaceFeed keeps each snapshot's
	// advisories for this (see GC), so no old rows are needed. It returns
	// ErrNotFound for an unknown operation, or one whose snapshot is not
	// kept (garbage collected, or written before the store kept them), and
	// ErrInvalid when prev and cur belong to different feeds.
	UpdateDiff(ctx context.Context, prev, cur string) (*UpdateDiff, error)
	// GC deletes the update operations of each feed but its newest keep
	// (keep >= 0), and the snapshots they keep, so that the history does
	// not grow without bound; it never deletes the operation that wrote a
	// feed's current snapshot. It returns how many operations it deleted.
	GC(ctx context.Context, keep int) (deleted int, err error)
}

// AdvisoryReader is what the matcher reads of the feeds.
type AdvisoryReader interface {
	// Advisories returns the advisories of every feed for these package names
	// in the namespace, without their details (Description, Links, Issued
	// and Aliases are empty): matching needs only the ranges.
	Advisories(ctx context.Context, namespace string, packages []string) ([]*vuln.Advisory, error)
	// Details fills Description, Links, Issued and Aliases of the
	// advisories, looked up by (Feed, Name).
	Details(ctx context.Context, advs []*vuln.Advisory) error
	// PackageNames lists the package names the namespace has advisories
	// for, in every feed, each once, in byte order: the matcher recovers a
	// Maven package's group from them.
	PackageNames(ctx context.Context, namespace string) ([]string, error)
}

// Catalog lists what the feeds hold, for the classic API's /namespaces.
type Catalog interface {
	// Namespaces returns every namespace with advisories and its version
	// format.
	Namespaces(ctx context.Context) (map[string]string, error)
	// NamespaceVulnerabilities returns up to limit distinct vulnerability
	// names of the namespace after the name after, sorted.
	NamespaceVulnerabilities(ctx context.Context, namespace, after string, limit int) ([]string, error)
	// Vulnerability returns the advisories of one vulnerability in the
	// namespace, with their details.
	Vulnerability(ctx context.Context, namespace, name string) ([]*vuln.Advisory, error)
}

// Pinger checks the database answers, for readiness probes: a request
// fails fast while the database is away.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PoolStater is implemented by stores with a connection pool (PostgreSQL,
// not the embedded SQLite): the server exports the pool as metrics.
type PoolStater interface {
	PoolStats() (acquired, idle, total, max int32)
}

// Locker gives named exclusive locks, so that the instances sharing a store
// split work instead of repeating it: each feed is updated by one instance at
// a time, and a manifest posted to two instances at once is indexed once.
//
// A lock is held until its unlock function is called (more calls do
// nothing) or the store is closed. A store whose instances share a database
// over the network (PostgreSQL) also loses a lock when its connection to the
// database dies: the database cannot tell a dead instance from a cut link, and
// must not keep the lock of a dead one forever. Locks are not reentrant: a
// second TryLock of a held key fails, in the same process too.
type Locker interface {
	// TryLock takes the lock named key if it is free and returns at once;
	// ok is false when someone else holds it. The updater uses it: an
	// instance that finds a feed's lock held leaves that update to the
	// holder.
	TryLock(ctx context.Context, key string) (unlock func(), ok bool, err error)
	// Lock waits for the lock named key until it is free or ctx is done
	// (then it returns ctx's error, wrapped). The indexer uses it: the
	// second instance asked for a manifest waits for the first, then finds
	// the report written.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Generation names the feeds' current snapshots: it changes whenever any
// snapshot is replaced, so caches of what was read from the feeds key on it.
func Generation(states []FeedState) string {
	var b strings.Builder
	for _, s := range states {
		b.WriteString(s.Feed)
		b.WriteByte(0)
		b.WriteString(s.Operation)
		b.WriteByte(0)
	}
	return b.String()
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

// UpdateDiff is what changed in a feed between two update operations.
type UpdateDiff struct {
	Prev UpdateOperation // zero when the diff is from the empty snapshot
	Cur  UpdateOperation
	// Added are the advisories of Cur's snapshot not in Prev's, Removed
	// those of Prev's not in Cur's, with Feed and details set. Their order
	// is unspecified but stable.
	Added, Removed []*vuln.Advisory
}

// EnrichmentStore is implemented by stores that keep the enrichment feeds
// (nvd, cvelist, epss, kev): per feed and CVE one vuln.Enrichment, replaced
// whole in one transaction like a feed's advisories. It is part of Store.
type EnrichmentStore interface {
	// ReplaceEnrichments replaces the feed's records with what load emits
	// and writes the feed's state (FeedState serves enrichment feeds too);
	// if load or anything else fails, the previous records and state stay.
	ReplaceEnrichments(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Enrichment) error) error) (UpdateOperation, error)
	// Enrichments returns every feed's records for these CVE ids, with
	// Feed set.
	Enrichments(ctx context.Context, cves []string) ([]*vuln.Enrichment, error)
	// EnrichmentRecords calls fn with each stored record of the feed, in
	// no particular order, from the committed snapshot: called from the
	// load of the feed's ReplaceEnrichments, it reads the snapshot being
	// replaced (an increment carries the unchanged records over).
	EnrichmentRecords(ctx context.Context, feed string, fn func(*vuln.Enrichment) error) error
}
