package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/feedwrite"
	"github.com/openclair/clair/store/internal/rowscan"
	"github.com/openclair/clair/vuln"
)

// FeedState implements store.Store.
func (s *Store) FeedState(ctx context.Context, feed string) (store.FeedState, error) {
	st := store.FeedState{Feed: feed}
	var updated, checked int64
	err := s.r.QueryRowContext(ctx,
		`SELECT fingerprint, updated_at, checked_at, advisories, operation FROM feed WHERE name = ?`, feed).
		Scan(&st.Fingerprint, &updated, &checked, &st.Advisories, &st.Operation)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.FeedState{}, fmt.Errorf("sqlite: feed state %s: %w", feed, store.ErrNotFound)
	case err != nil:
		return store.FeedState{}, fmt.Errorf("sqlite: feed state %s: %w", feed, err)
	}
	st.UpdatedAt, st.CheckedAt = fromNanos(updated), fromNanos(checked)
	return st, nil
}

// FeedStates implements store.Store.
func (s *Store) FeedStates(ctx context.Context) ([]store.FeedState, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT name, fingerprint, updated_at, checked_at, advisories, operation FROM feed ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: feed states: %w", err)
	}
	defer rows.Close()
	out, err := rowscan.FeedStates(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: feed states: %w", err)
	}
	return out, nil
}

// TouchFeed implements store.Store. It returns store.ErrNotFound for a feed
// never updated: there is no snapshot whose check time could move.
func (s *Store) TouchFeed(ctx context.Context, feed string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE feed SET checked_at = ? WHERE name = ?`, now().UnixNano(), feed)
	if err != nil {
		return fmt.Errorf("sqlite: touch feed %s: %w", feed, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: touch feed %s: %w", feed, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: touch feed %s: %w", feed, store.ErrNotFound)
	}
	return nil
}

// Rows per multi-row INSERT. Binding 200 rows per statement execution spreads
// the per-call cost of database/sql and the driver (a few µs) over many rows:
// a third faster than one row per statement (storetest.Bench, ReplaceFeed), and
// batches of 50 or 500 measure the same. 200 × 6 columns stays far below
// SQLite's limit on bound parameters (32766).
const (
	advisoryBatch = 200
	detailBatch   = 200
)

// insertVerb is INSERT OR FAIL rather than INSERT (OR ABORT): on a failed
// statement ABORT undoes the statement's own rows, which costs SQLite a
// statement journal for every multi-row INSERT (6% of an update). FAIL keeps
// them, and ReplaceFeed rolls the whole transaction back anyway.
const insertVerb = "INSERT OR FAIL"

// ReplaceFeed implements store.Store.
//
// Everything happens in one write transaction: the old rows are deleted, the
// new ones inserted as load emits them, and the feed row, an
// update_operation row and the operation's snapshot blob (for UpdateDiff,
// gathered as load emits) written. Readers keep seeing the previous snapshot
// until the commit. Any failure (load's error, an emit error load swallowed,
// ctx done) rolls it all back.
//
// An advisory's Feed must be empty or the feed's name; it is stored as the
// feed's name. Details are stored once per vulnerability name: the first
// advisory of a name that carries any (Description, Links, Issued or Aliases)
// wins, later ones are not compared. load may call emit from several
// goroutines; emit must not be called after load returns.
//
// The transaction holds the store's one writer connection until it ends:
// other writes wait for it (as long as their contexts allow), reads do not.
// So load must not write to this store itself, or it waits for itself.
func (s *Store) ReplaceFeed(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Advisory) error) error) (op store.UpdateOperation, err error) {
	if load == nil {
		return op, fmt.Errorf("sqlite: replace feed %s: nil load", feed)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return op, fmt.Errorf("sqlite: replace feed %s: begin: %w", feed, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error being returned is the one that matters
		}
	}()

	for _, q := range []string{
		`DELETE FROM advisory WHERE feed = ?`,
		`DELETE FROM package_detail WHERE feed = ?`,
		`DELETE FROM feed_namespace WHERE feed = ?`,
	} {
		if _, err = tx.ExecContext(ctx, q, feed); err != nil {
			return op, fmt.Errorf("sqlite: replace feed %s: delete old snapshot: %w", feed, err)
		}
	}
	// Details arrive once per name, in no order; package_detail wants
	// them per package. They wait in temporary tables, with the (package,
	// name) pairs of the advisories, and are grouped by one statement once
	// all are in. The writer keeps temporary tables on disk (Open): an OSV
	// snapshot's details run to hundreds of megabytes. pair_stage is read
	// in key order, so the grouping streams package by package instead of
	// sorting every record first.
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS detail_stage (
			name TEXT NOT NULL PRIMARY KEY, description TEXT NOT NULL, links TEXT NOT NULL,
			issued TEXT NOT NULL, aliases TEXT NOT NULL) WITHOUT ROWID`,
		`CREATE TEMP TABLE IF NOT EXISTS pair_stage (
			package TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (package, name)) WITHOUT ROWID`,
		`DELETE FROM temp.detail_stage`,
		`DELETE FROM temp.pair_stage`,
	} {
		if _, err = tx.ExecContext(ctx, q); err != nil {
			return op, fmt.Errorf("sqlite: replace feed %s: detail staging: %w", feed, err)
		}
	}

	w := &feedWriter{
		ctx:  ctx,
		feed: feed,
		adv: batcher{tx: tx, cols: 5, size: advisoryBatch,
			prefix: insertVerb + ` INTO advisory (feed, namespace, package, seq, rec) VALUES `},
		det: batcher{tx: tx, cols: 5, size: detailBatch,
			prefix: insertVerb + ` INTO temp.detail_stage (name, description, links, issued, aliases) VALUES `},
		pair: batcher{tx: tx, cols: 2, size: advisoryBatch,
			prefix: `INSERT OR IGNORE INTO temp.pair_stage (package, name) VALUES `},
		namespaces: map[string]struct{}{},
	}
	defer w.adv.close()
	defer w.det.close()
	defer w.pair.close()
	fw := feedwrite.New(ctx, "sqlite", feed, w.write)
	if err = fw.Close(load(fw.Emit)); err != nil {
		return op, err
	}
	if err = w.adv.flush(ctx); err != nil {
		return op, fmt.Errorf("sqlite: replace feed %s: insert advisories: %w", feed, err)
	}
	if err = w.det.flush(ctx); err != nil {
		return op, fmt.Errorf("sqlite: replace feed %s: insert details: %w", feed, err)
	}
	if err = w.pair.flush(ctx); err != nil {
		return op, fmt.Errorf("sqlite: replace feed %s: insert details: %w", feed, err)
	}
	for _, q := range []string{packageDetailBuild, `DELETE FROM temp.detail_stage`, `DELETE FROM temp.pair_stage`} {
		if _, err = tx.ExecContext(ctx, q, feed); err != nil {
			return op, fmt.Errorf("sqlite: replace feed %s: group details by package: %w", feed, err)
		}
	}
	for ns := range w.namespaces {
		if _, err = tx.ExecContext(ctx, `INSERT INTO feed_namespace (namespace, feed) VALUES (?, ?)`, ns, feed); err != nil {
			return op, fmt.Errorf("sqlite: replace feed %s: insert namespaces: %w", feed, err)
		}
	}

	blob, err := fw.Snapshot()
	if err != nil {
		return store.UpdateOperation{}, err
	}
	if op, err = recordUpdate(ctx, tx, "replace feed", feed, fingerprint, fw.Len(), blob); err != nil {
		return store.UpdateOperation{}, err
	}
	// Commit fails with ctx's error if ctx is done by now: a cancelled update
	// is not committed, however far it got.
	if err = tx.Commit(); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("sqlite: replace feed %s: commit: %w", feed, err)
	}
	return op, nil
}

// feedWriter writes what feedwrite.Writer checked, in batches.
type feedWriter struct {
	ctx        context.Context
	feed       string
	adv, det   batcher
	pair       batcher // (package, name) of each advisory, for package_detail
	namespaces map[string]struct{}
}

// write is a feedwrite.WriteFunc.
func (w *feedWriter) write(a *vuln.Advisory, seq int, details bool) error {
	rec, err := encodeAdvisory(a)
	if err != nil {
		return fmt.Errorf("advisory %s %s %s: %w", a.Namespace, a.Package, a.Name, err)
	}
	if err := w.adv.add(w.ctx, w.feed, a.Namespace, a.Package, seq, rec); err != nil {
		return fmt.Errorf("insert advisories: %w", err)
	}
	w.namespaces[a.Namespace] = struct{}{}
	if err := w.pair.add(w.ctx, a.Package, a.Name); err != nil {
		return fmt.Errorf("insert details: %w", err)
	}
	if !details {
		return nil
	}
	links, err := encodeStrings(a.Links)
	if err != nil {
		return fmt.Errorf("advisory %s links: %w", a.Name, err)
	}
	aliases, err := encodeStrings(a.Aliases)
	if err != nil {
		return fmt.Errorf("advisory %s aliases: %w", a.Name, err)
	}
	if err := w.det.add(w.ctx, a.Name, a.Description, links, encodeIssued(a.Issued), aliases); err != nil {
		return fmt.Errorf("insert details: %w", err)
	}
	return nil
}

// batcher gathers rows into multi-row INSERTs of size rows, executed through
// one statement prepared once per transaction.
type batcher struct {
	tx     *sql.Tx
	prefix string // "INSERT INTO t (cols) VALUES "
	cols   int
	size   int
	full   *sql.Stmt
	args   []any
}

func (b *batcher) add(ctx context.Context, vals ...any) error {
	if b.args == nil {
		b.args = make([]any, 0, b.cols*b.size)
	}
	b.args = append(b.args, vals...)
	if len(b.args) >= b.cols*b.size {
		return b.flush(ctx)
	}
	return nil
}

// flush inserts the rows gathered so far.
func (b *batcher) flush(ctx context.Context) error {
	rows := len(b.args) / b.cols
	if rows == 0 {
		return nil
	}
	var st *sql.Stmt
	if rows == b.size {
		if b.full == nil {
			var err error
			if b.full, err = b.tx.PrepareContext(ctx, b.insert(rows)); err != nil {
				return err
			}
		}
		st = b.full
	} else { // the last, partial batch: used once
		var err error
		if st, err = b.tx.PrepareContext(ctx, b.insert(rows)); err != nil {
			return err
		}
		defer st.Close()
	}
	if _, err := st.ExecContext(ctx, b.args...); err != nil {
		return err
	}
	clear(b.args) // let the strings go
	b.args = b.args[:0]
	return nil
}

// insert is the statement text for rows rows.
func (b *batcher) insert(rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", b.cols), ",") + ")"
	var sb strings.Builder
	sb.Grow(len(b.prefix) + rows*(len(row)+1))
	sb.WriteString(b.prefix)
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(row)
	}
	return sb.String()
}

func (b *batcher) close() {
	if b.full != nil {
		b.full.Close()
	}
}

// advisoriesQuery reads the rows of the listed packages in one namespace, one
// result row per feed with rows there (feed_namespace, usually one or two
// feeds) holding all its records in one group_concat (see codec.go). For
// each feed and package the advisory primary key (feed, namespace, package)
// gives one contiguous range. The package names travel as one JSON array,
// deduplicated by the caller: no limit on their number, one prepared
// statement whatever the count, and json_each drives the join directly
// (an IN list would first copy the names into a temporary index).
const advisoriesQuery = `SELECT f.feed, (
	SELECT group_concat(a.package || char(0) || a.rec, char(0))
	FROM json_each(?2) AS p CROSS JOIN advisory AS a
	WHERE a.feed = f.feed AND a.namespace = ?1 AND a.package = p.value
)
FROM feed_namespace AS f WHERE f.namespace = ?1`

// Advisories implements store.Store. The order of the result is unspecified.
// The advisories' strings share memory with each other.
func (s *Store) Advisories(ctx context.Context, namespace string, packages []string) ([]*vuln.Advisory, error) {
	if len(packages) == 0 {
		return nil, nil
	}
	// Each name once: a name listed twice would read its rows twice.
	packages = slices.Compact(slices.Sorted(slices.Values(packages)))
	if out, ok, err := s.splitAdvisories(ctx, namespace, packages); ok { // parallel.go
		return out, err
	}
	names, err := json.Marshal(packages)
	if err != nil {
		return nil, fmt.Errorf("sqlite: advisories %s: %w", namespace, err)
	}
	rows, err := s.advisories.QueryContext(ctx, namespace, string(names))
	if err != nil {
		return nil, fmt.Errorf("sqlite: advisories %s: %w", namespace, err)
	}
	defer rows.Close()
	var (
		out  []*vuln.Advisory
		dec  = advisoryDecoder{namespace: namespace}
		recs sql.NullString
	)
	for rows.Next() {
		if err := rows.Scan(&dec.feed, &recs); err != nil {
			return nil, fmt.Errorf("sqlite: advisories %s: %w", namespace, err)
		}
		if !recs.Valid { // no rows of this feed for these packages
			continue
		}
		err := splitRecords(recs.String, advisoryFields, func(f []string) error {
			a, err := dec.decode(f)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqlite: advisories %s: feed %s: %w", namespace, dec.feed, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: advisories %s: %w", namespace, err)
	}
	return out, nil
}

// packageDetailBuild fills package_detail for feed ?1 from the staged
// pairs and details (see migration 0012 and ReplaceFeed).
const packageDetailBuild = `INSERT INTO package_detail (feed, package, brief, recs)
SELECT ?1, p.package,
	CAST(group_concat(d.name || char(0) || d.issued || char(0) || d.aliases, char(0)) AS BLOB),
	CAST(group_concat(d.name || char(0) || d.description || char(0) || d.links || char(0) ||
	d.issued || char(0) || d.aliases, char(0)) AS BLOB)
FROM temp.pair_stage AS p JOIN temp.detail_stage AS d ON d.name = p.name
GROUP BY p.package`

// detailsQuery reads the detail records of the listed (distinct) packages
// of one feed, a row per package; briefQuery their brief records.
const (
	detailsQuery = `SELECT d.package, d.recs FROM json_each(?2) AS n CROSS JOIN package_detail AS d
WHERE d.feed = ?1 AND d.package = n.value`
	briefQuery = `SELECT d.package, d.brief FROM json_each(?2) AS n CROSS JOIN package_detail AS d
WHERE d.feed = ?1 AND d.package = n.value`
)

// Details implements store.Store: one query per feed among advs, for the
// packages of its advisories. Advisories whose (Feed, Package, Name) has no
// stored details (no package, an unknown name) are left as they are.
func (s *Store) Details(ctx context.Context, advs []*vuln.Advisory) error {
	return s.readDetails(ctx, advs, false)
}

// BriefDetails implements match.BriefStore: Details without Description
// and Links, which it leaves as they are.
func (s *Store) BriefDetails(ctx context.Context, advs []*vuln.Advisory) error {
	return s.readDetails(ctx, advs, true)
}

func (s *Store) readDetails(ctx context.Context, advs []*vuln.Advisory, brief bool) error {
	byFeed := map[string]detailWant{}
	for _, a := range advs {
		if a == nil || a.Package == "" {
			continue
		}
		w := byFeed[a.Feed]
		if w == nil {
			w = detailWant{}
			byFeed[a.Feed] = w
		}
		names := w[a.Package]
		if names == nil {
			names = map[string][]*vuln.Advisory{}
			w[a.Package] = names
		}
		names[a.Name] = append(names[a.Name], a)
	}
	for feed, w := range byFeed {
		if err := s.splitDetails(ctx, feed, w, brief); err != nil { // parallel.go
			return err
		}
	}
	return nil
}

// detailWant maps package to name to the advisories whose details are
// wanted.
type detailWant map[string]map[string][]*vuln.Advisory

// details reads the details of the listed packages' advisories in w, or
// their brief details.
func (s *Store) details(ctx context.Context, feed string, packages []string, w detailWant, brief bool) error {
	js, err := json.Marshal(packages)
	if err != nil {
		return fmt.Errorf("sqlite: details %s: %w", feed, err)
	}
	st := s.detailsStmt
	if brief {
		st = s.briefStmt
	}
	rows, err := st.QueryContext(ctx, feed, string(js))
	if err != nil {
		return fmt.Errorf("sqlite: details %s: %w", feed, err)
	}
	defer rows.Close()
	var (
		pkg  string
		recs sql.RawBytes // only the wanted records' fields are copied
	)
	for rows.Next() {
		if err := rows.Scan(&pkg, &recs); err != nil {
			return fmt.Errorf("sqlite: details %s: %w", feed, err)
		}
		if err := fillDetails(recs, w[pkg], brief); err != nil {
			return fmt.Errorf("sqlite: details %s %s: %w", feed, pkg, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: details %s: %w", feed, err)
	}
	return nil
}

// fillDetails gives the advisories of want the details of their names in
// recs: records of detailFields fields, or of briefFields when brief.
func fillDetails(recs []byte, want map[string][]*vuln.Advisory, brief bool) error {
	var buf [detailFields][]byte
	f := buf[:]
	if brief {
		f = buf[:briefFields]
	}
	for len(recs) > 0 {
		for i := range f {
			j := bytes.IndexByte(recs, 0)
			switch {
			case j >= 0:
				f[i], recs = recs[:j], recs[j+1:]
			case i == len(f)-1:
				f[i], recs = recs, nil
			default:
				return fmt.Errorf("truncated record: %d of %d fields", i+1, len(f))
			}
		}
		advs := want[string(f[0])] // no allocation: a map index by string(bytes)
		if len(advs) == 0 {
			continue
		}
		name := advs[0].Name
		// Both forms end with issued and aliases.
		issued, err := decodeIssued(string(f[len(f)-2]))
		if err != nil {
			return fmt.Errorf("%s: issued: %w", name, err)
		}
		aliases, err := decodeStrings(string(f[len(f)-1]))
		if err != nil {
			return fmt.Errorf("%s: aliases: %w", name, err)
		}
		var (
			desc  string
			links []string
		)
		if !brief {
			if links, err = decodeStrings(string(f[2])); err != nil {
				return fmt.Errorf("%s: links: %w", name, err)
			}
			desc = string(f[1])
		}
		for i, a := range advs {
			a.Issued = issued
			// Each advisory gets its own slices: callers may edit one.
			if i > 0 {
				links, aliases = slices.Clone(links), slices.Clone(aliases)
			}
			a.Aliases = aliases
			if !brief {
				a.Description, a.Links = desc, links
			}
		}
	}
	return nil
}

// recordUpdate writes what every snapshot replacement records in its
// transaction: the update operation, its snapshot blob (for diffs) and the
// feed's state. what names the replacement in errors.
func recordUpdate(ctx context.Context, tx *sql.Tx, what, feed, fingerprint string, n int, blob []byte) (store.UpdateOperation, error) {
	op := store.UpdateOperation{ID: uuid.NewString(), Feed: feed, Fingerprint: fingerprint, Date: now(), Advisories: n}
	if _, err := tx.ExecContext(ctx, `INSERT INTO update_operation (id, feed, fingerprint, date, advisories) VALUES (?, ?, ?, ?, ?)`,
		op.ID, feed, fingerprint, op.Date.UnixNano(), op.Advisories); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("sqlite: %s %s: insert update operation: %w", what, feed, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO update_snapshot (operation, data) VALUES (?, ?)`, op.ID, blob); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("sqlite: %s %s: insert snapshot: %w", what, feed, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO feed (name, fingerprint, updated_at, checked_at, advisories, operation)
		VALUES (?1, ?2, ?3, ?3, ?4, ?5)
		ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at,
			checked_at = excluded.checked_at, advisories = excluded.advisories, operation = excluded.operation`,
		feed, fingerprint, op.Date.UnixNano(), op.Advisories, op.ID); err != nil {
		return store.UpdateOperation{}, fmt.Errorf("sqlite: %s %s: write feed: %w", what, feed, err)
	}
	return op, nil
}
