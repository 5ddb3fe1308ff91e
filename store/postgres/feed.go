package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/openclair/clair/internal/split"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/feedwrite"
	"github.com/openclair/clair/store/internal/rowscan"
	"github.com/openclair/clair/vuln"
)

// FeedState implements store.Store.
func (s *Store) FeedState(ctx context.Context, feed string) (store.FeedState, error) {
	st := store.FeedState{Feed: feed}
	var updated, checked int64
	err := s.pool.QueryRow(ctx,
		`SELECT fingerprint, updated_at, checked_at, advisories, operation FROM feed WHERE name = $1`, feed).
		Scan(&st.Fingerprint, &updated, &checked, &st.Advisories, &st.Operation)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.FeedState{}, fmt.Errorf("postgres: feed state %s: %w", feed, store.ErrNotFound)
	case err != nil:
		return store.FeedState{}, fmt.Errorf("postgres: feed state %s: %w", feed, err)
	}
	st.UpdatedAt, st.CheckedAt = fromNanos(updated), fromNanos(checked)
	return st, nil
}

// FeedStates implements store.Store. The names sort with COLLATE "C", byte
// order, as Go compares strings: the database's collation could order them
// otherwise.
func (s *Store) FeedStates(ctx context.Context) ([]store.FeedState, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT name, fingerprint, updated_at, checked_at, advisories, operation FROM feed ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: feed states: %w", err)
	}
	defer rows.Close()
	out, err := rowscan.FeedStates(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: feed states: %w", err)
	}
	return out, nil
}

// TouchFeed implements store.Store. It returns store.ErrNotFound for a feed
// never updated: there is no snapshot whose check time could move.
func (s *Store) TouchFeed(ctx context.Context, feed string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE feed SET checked_at = $1 WHERE name = $2`, now().UnixNano(), feed)
	if err != nil {
		return fmt.Errorf("postgres: touch feed %s: %w", feed, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: touch feed %s: %w", feed, store.ErrNotFound)
	}
	return nil
}

// copyBatch is the number of rows ReplaceFeed buffers per COPY. A COPY costs
// a round trip to learn the column types plus one to finish, so small batches
// waste time; a large one holds its rows in memory. 10k advisory rows are a
// few MB.
const copyBatch = 10_000

// feedLock serializes ReplaceFeed of one feed across every instance on the
// database: the second waits for the first to commit, then replaces its
// snapshot with its own. Without it both would delete the rows they see (the
// previous snapshot), insert theirs, and commit two snapshots merged.
const feedLock = `SELECT pg_advisory_xact_lock(hashtext('feed:' || $1))`

// ReplaceFeed implements store.Store.
//
// Everything happens in one transaction: the feed's advisory lock is taken,
// the old rows deleted, the new ones written with COPY in batches as load
// emits them, and the feed row, an update_operation row and the operation's
// snapshot blob (for UpdateDiff, gathered as load emits) written. Readers
// keep seeing the previous snapshot until the commit. Any failure (load's
// error, an emit error load swallowed, ctx done) rolls it all back.
//
// An advisory's Feed must be empty or the feed's name; it is stored as the
// feed's name. Details are stored once per vulnerability name: the first
// advisory of a name that carries any (Description, Links, Issued or Aliases)
// wins, later ones are not compared. load may call emit from several
// goroutines; emit must not be called after load returns.
//
// The transaction holds one pooled connection until it ends.
func (s *Store) ReplaceFeed(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Advisory) error) error) (op store.UpdateOperation, err error) {
	if load == nil {
		return op, fmt.Errorf("postgres: replace feed %s: nil load", feed)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return op, fmt.Errorf("postgres: replace feed %s: begin: %w", feed, ctxErr(ctx, err))
	}
	defer func() {
		if err != nil {
			rollback(ctx, tx) // the error being returned is the one that matters
		}
	}()
	if _, err = tx.Exec(ctx, feedLock, feed); err != nil {
		return op, fmt.Errorf("postgres: replace feed %s: lock: %w", feed, ctxErr(ctx, err))
	}
	// After the lock: each statement of a READ COMMITTED transaction sees
	// what committed before it, so these deletes see (and remove) the
	// snapshot another instance committed while we waited.
	for _, q := range []string{
		`DELETE FROM advisory WHERE feed = $1`,
		`DELETE FROM vulnerability_detail WHERE feed = $1`,
	} {
		if _, err = tx.Exec(ctx, q, feed); err != nil {
			return op, fmt.Errorf("postgres: replace feed %s: delete old snapshot: %w", feed, ctxErr(ctx, err))
		}
	}

	w := &feedWriter{
		ctx:  ctx,
		feed: feed,
		adv: copier{tx: tx, table: "advisory", cols: []string{"feed", "namespace", "package", "seq", "name", "state",
			"version_format", "fixed_in", "severity", "normalized_severity", "ranges", "versions"}},
		det: copier{tx: tx, table: "vulnerability_detail", cols: []string{"feed", "name", "description", "links", "issued", "aliases"}},
	}
	fw := feedwrite.New(ctx, "postgres", feed, w.write)
	if err = fw.Close(load(fw.Emit)); err != nil {
		return op, err
	}
	if err = w.adv.flush(ctx); err != nil {
		return op, fmt.Errorf("postgres: replace feed %s: copy advisories: %w", feed, ctxErr(ctx, err))
	}
	if err = w.det.flush(ctx); err != nil {
		return op, fmt.Errorf("postgres: replace feed %s: copy details: %w", feed, ctxErr(ctx, err))
	}

	blob, err := fw.Snapshot()
	if err != nil {
		return store.UpdateOperation{}, err
	}
	if op, err = recordUpdate(ctx, tx, "replace feed", feed, fingerprint, fw.Len(), blob); err != nil {
		return store.UpdateOperation{}, err
	}
	// A cancelled update is not committed, however far it got. pgx would
	// refuse to send COMMIT on a done ctx too, but checking here makes the
	// error ctx's own.
	if err = ctx.Err(); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: replace feed %s: %w", feed, err)
	}
	if err = tx.Commit(ctx); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: replace feed %s: commit: %w", feed, ctxErr(ctx, err))
	}
	return op, nil
}

// ctxErr adds ctx's error to err when ctx is done: pgx reports a query
// interrupted by a cancelled context in its own words, and callers test for
// context.Canceled.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}

// feedWriter writes what feedwrite.Writer checked, with COPY.
type feedWriter struct {
	ctx      context.Context
	feed     string
	adv, det copier
}

// write is a feedwrite.WriteFunc.
func (w *feedWriter) write(a *vuln.Advisory, seq int, details bool) error {
	ranges, err := encodeRanges(a)
	if err != nil {
		return fmt.Errorf("advisory %s %s %s: %w", a.Namespace, a.Package, a.Name, err)
	}
	// seq is an integer column: a snapshot of over 2^31 rows is not one.
	if err := w.adv.add(w.ctx, w.feed, a.Namespace, a.Package, int32(seq), a.Name, string(a.State), a.VersionFormat,
		a.FixedIn, a.Severity, int16(a.NormalizedSeverity), ranges, nilIfEmpty(a.Versions)); err != nil {
		return fmt.Errorf("copy advisories: %w", ctxErr(w.ctx, err))
	}
	if !details {
		return nil
	}
	if err := w.det.add(w.ctx, w.feed, a.Name, a.Description, nilIfEmpty(a.Links), encodeIssued(a.Issued),
		nilIfEmpty(a.Aliases)); err != nil {
		return fmt.Errorf("copy details: %w", ctxErr(w.ctx, err))
	}
	return nil
}

// copier buffers rows of one table and writes them with COPY, copyBatch at a
// time: COPY is PostgreSQL's bulk path, far faster than INSERTs, and batching
// bounds the memory a large feed takes.
type copier struct {
	tx    pgx.Tx
	table string
	cols  []string
	rows  [][]any
}

func (c *copier) add(ctx context.Context, vals ...any) error {
	c.rows = append(c.rows, vals)
	if len(c.rows) >= copyBatch {
		return c.flush(ctx)
	}
	return nil
}

// flush writes the rows gathered so far.
func (c *copier) flush(ctx context.Context) error {
	if len(c.rows) == 0 {
		return nil
	}
	if _, err := c.tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
		return err
	}
	clear(c.rows) // let the strings go
	c.rows = c.rows[:0]
	return nil
}

// advisoriesQuery reads the rows of the listed packages in one namespace:
// advisory_lookup turns package = ANY($2) into one index range per name. The
// names travel as one text[] parameter: one prepared statement whatever
// their number, and no limit on it.
const advisoriesQuery = `SELECT feed, package, name, state, version_format, fixed_in, severity,
	normalized_severity, ranges, versions
FROM advisory WHERE namespace = $1 AND package = ANY($2::text[])`

// Advisories implements store.Store. The order of the result is unspecified.
func (s *Store) Advisories(ctx context.Context, namespace string, packages []string) ([]*vuln.Advisory, error) {
	if len(packages) == 0 {
		return nil, nil
	}
	// Each name once: a name listed twice would read its rows twice.
	packages = slices.Compact(slices.Sorted(slices.Values(packages)))
	// A large image's (some 400 source packages, 16,000 advisories for
	// the 700-package image) are rows to decode here and to read there:
	// in runs at once, on connections of their own.
	return split.Concat(ctx, packages, split.Runs(0, len(packages), minSplitPackages),
		func(ctx context.Context, run []string) ([]*vuln.Advisory, error) {
			return s.advisories(ctx, namespace, run)
		})
}

// minSplitPackages is the fewest package names per advisories query worth
// a connection of its own.
const minSplitPackages = 128

func (s *Store) advisories(ctx context.Context, namespace string, packages []string) ([]*vuln.Advisory, error) {
	if len(packages) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, advisoriesQuery, namespace, packages)
	if err != nil {
		return nil, fmt.Errorf("postgres: advisories %s: %w", namespace, err)
	}
	defer rows.Close()
	var (
		out []*vuln.Advisory
		// Feed and package names repeat from row to row: share one
		// string each rather than keep thousands of copies.
		intern = map[string]string{}
		feed   string
		pkg    string
		state  string
		sev    int16
		ranges string
	)
	share := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		intern[s] = s
		return s
	}
	for rows.Next() {
		a := &vuln.Advisory{Namespace: namespace}
		if err := rows.Scan(&feed, &pkg, &a.Name, &state, &a.VersionFormat, &a.FixedIn, &a.Severity,
			&sev, &ranges, &a.Versions); err != nil {
			return nil, fmt.Errorf("postgres: advisories %s: %w", namespace, err)
		}
		a.Feed, a.Package, a.State, a.NormalizedSeverity = share(feed), share(pkg), vuln.State(share(state)), vuln.Severity(sev)
		if err = decodeRanges(a, ranges); err != nil {
			return nil, fmt.Errorf("postgres: advisories %s: %s %s: %w", namespace, a.Package, a.Name, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: advisories %s: %w", namespace, err)
	}
	return out, nil
}

// detailsQuery reads the details of the listed (distinct) names of one feed
// through vulnerability_detail's primary key; briefQuery all but the
// description and links.
const (
	detailsQuery = `SELECT name, description, links, issued, aliases
FROM vulnerability_detail WHERE feed = $1 AND name = ANY($2::text[])`
	briefQuery = `SELECT name, '', NULL::text[], issued, aliases
FROM vulnerability_detail WHERE feed = $1 AND name = ANY($2::text[])`
)

// Details implements store.Store: one query per feed among advs (split
// when long, see splitDetails). Advisories whose (Feed, Name) has no stored
// details are left as they are.
func (s *Store) Details(ctx context.Context, advs []*vuln.Advisory) error {
	return rowscan.DetailsByFeed(advs, func(feed string, names []string, m map[string][]*vuln.Advisory) error {
		return s.splitDetails(ctx, detailsQuery, feed, names, m)
	})
}

// BriefDetails implements match.BriefStore: Details without Description
// and Links, which it leaves as they are.
func (s *Store) BriefDetails(ctx context.Context, advs []*vuln.Advisory) error {
	return rowscan.DetailsByFeed(advs, func(feed string, names []string, m map[string][]*vuln.Advisory) error {
		return s.splitDetails(ctx, briefQuery, feed, names, m)
	})
}

// minSplitDetails is the fewest names per details query worth a connection
// of its own.
const minSplitDetails = 1024

// splitDetails runs details over sorted names cut into consecutive runs,
// up to GOMAXPROCS (at most 4) at once on connections of their own: a large
// report's thousands of names (6,645 for the 700-package image) are as
// many index look-ups in the server and rows to decode here. Each run's
// names are distinct, so each run's advisories are its own.
func (s *Store) splitDetails(ctx context.Context, query, feed string, names []string, m map[string][]*vuln.Advisory) error {
	n := min(runtime.GOMAXPROCS(0), 4, len(names)/minSplitDetails)
	if n < 2 {
		return s.details(ctx, query, feed, names, m)
	}
	g, ctx := errgroup.WithContext(ctx)
	per := (len(names) + n - 1) / n
	for i := 0; i < len(names); i += per {
		run := names[i:min(i+per, len(names))]
		g.Go(func() error { return s.details(ctx, query, feed, run, m) })
	}
	return g.Wait()
}

func (s *Store) details(ctx context.Context, query, feed string, names []string, m map[string][]*vuln.Advisory) error {
	rows, err := s.pool.Query(ctx, query, feed, names)
	if err != nil {
		return fmt.Errorf("postgres: details %s: %w", feed, err)
	}
	defer rows.Close()
	brief := query == briefQuery
	var (
		name, desc, issued string
		links, aliases     []string
	)
	for rows.Next() {
		links, aliases = nil, nil // Scan of NULL would leave the last row's
		if err := rows.Scan(&name, &desc, &links, &issued, &aliases); err != nil {
			return fmt.Errorf("postgres: details %s: %w", feed, err)
		}
		t, err := decodeIssued(issued)
		if err != nil {
			return fmt.Errorf("postgres: details %s: %s: issued: %w", feed, name, err)
		}
		for _, a := range m[name] {
			a.Issued = t
			// Each advisory gets its own slices: callers may edit one.
			a.Aliases = slices.Clone(aliases)
			if !brief {
				a.Description = desc
				a.Links = slices.Clone(links)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: details %s: %w", feed, err)
	}
	return nil
}

// recordUpdate writes what every snapshot replacement records in its
// transaction: the update operation, its snapshot blob (for diffs) and the
// feed's state. what names the replacement in errors.
func recordUpdate(ctx context.Context, tx pgx.Tx, what, feed, fingerprint string, n int, blob []byte) (store.UpdateOperation, error) {
	op := store.UpdateOperation{ID: uuid.NewString(), Feed: feed, Fingerprint: fingerprint, Date: now(), Advisories: n}
	if _, err := tx.Exec(ctx, `INSERT INTO update_operation (id, feed, fingerprint, date, advisories) VALUES ($1, $2, $3, $4, $5)`,
		op.ID, feed, fingerprint, op.Date.UnixNano(), op.Advisories); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: %s %s: insert update operation: %w", what, feed, ctxErr(ctx, err))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO update_snapshot (operation, data) VALUES ($1, $2)`, op.ID, blob); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: %s %s: insert snapshot: %w", what, feed, ctxErr(ctx, err))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO feed (name, fingerprint, updated_at, checked_at, advisories, operation)
		VALUES ($1, $2, $3, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at,
			checked_at = excluded.checked_at, advisories = excluded.advisories, operation = excluded.operation`,
		feed, fingerprint, op.Date.UnixNano(), op.Advisories, op.ID); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("postgres: %s %s: write feed: %w", what, feed, ctxErr(ctx, err))
	}
	return op, nil
}
