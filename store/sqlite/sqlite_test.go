package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/internal/feedwrite"
	"github.com/openclair/clair/store/storetest"
	"github.com/openclair/clair/vuln"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	// The parent directory does not exist yet, and the name needs escaping
	// in a URI.
	name := "a?b#c%20 d.db"
	if runtime.GOOS == "windows" {
		name = "a#c%20 d.db"
	}
	path := filepath.Join(t.TempDir(), "new dir", name)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	a := &vuln.Advisory{Feed: "debian", Name: "CVE-1", Namespace: "debian:12", Package: "glibc",
		State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "1"}}, FixedIn: "1", Description: "d"}
	op, err := s.ReplaceFeed(ctx, "debian", "fp", func(emit func(*vuln.Advisory) error) error { return emit(a) })
	if err != nil {
		t.Fatalf("ReplaceFeed: %v", err)
	}
	if err := s.PutIndexReport(ctx, &vuln.IndexReport{ManifestHash: "sha256:1", State: vuln.IndexFinished}); err != nil {
		t.Fatalf("PutIndexReport: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not where asked: %v", err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	st, err := s.FeedState(ctx, "debian")
	if err != nil || st.Operation != op.ID || !st.UpdatedAt.Equal(op.Date) {
		t.Fatalf("FeedState after reopen = %+v, %v; want operation %s", st, err, op.ID)
	}
	got, err := s.Advisories(ctx, "debian:12", []string{"glibc"})
	if err != nil || len(got) != 1 || got[0].FixedIn != "1" {
		t.Fatalf("Advisories after reopen = %v, %v", got, err)
	}
	if err := s.Details(ctx, got); err != nil || got[0].Description != "d" {
		t.Fatalf("Details after reopen = %+v, %v", got[0], err)
	}
	if r, err := s.IndexReport(ctx, "sha256:1"); err != nil || r.State != vuln.IndexFinished {
		t.Fatalf("IndexReport after reopen = %+v, %v", r, err)
	}
	var mode string
	if err := s.r.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	for _, db := range []*sql.DB{s.w, s.r} {
		for pragma, want := range map[string]int{"busy_timeout": 10000, "foreign_keys": 1, "synchronous": 1} {
			var got int
			if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
				t.Errorf("PRAGMA %s = %d, %v; want %d", pragma, got, err, want)
			}
		}
	}
	// The read pool cannot write.
	if _, err := s.r.ExecContext(ctx, `DELETE FROM feed`); err == nil {
		t.Error("the read pool wrote")
	}
}

func TestMigrationsOnce(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "clair.db")
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations = %+v, want 0001 first", ms)
	}
	for i := range 3 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		// Running migrate again by hand is a no-op too.
		if err := migrate(ctx, s.w); err != nil {
			t.Fatalf("migrate #%d: %v", i, err)
		}
		var n, distinct int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
			t.Fatalf("schema_migrations: %v", err)
		}
		if n != len(ms) || distinct != len(ms) {
			t.Fatalf("schema_migrations has %d rows (%d versions), want %d", n, distinct, len(ms))
		}
		s.Close()
	}
}

func TestOpenConcurrently(t *testing.T) {
	// Several processes (here: stores) opening a new file at once all
	// succeed; the migration runs once.
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "clair.db")
	errs := make(chan error, 4)
	stores := make(chan *Store, 4)
	for range 4 {
		go func() {
			s, err := Open(ctx, path)
			errs <- err
			stores <- s
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.Context(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	// The parent is a file: the directory cannot be created.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), filepath.Join(f, "clair.db")); err == nil || !strings.HasPrefix(err.Error(), "sqlite: open") {
		t.Errorf("Open under a file: err = %v, want a sqlite: open error", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestDefaultPath(t *testing.T) {
	switch runtime.GOOS {
	case "darwin", "ios", "windows", "plan9":
		t.Skip("the cache directory does not follow XDG here")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	got, err := DefaultPath()
	if err != nil {
		t.Fatalf("DefaultPath: %v", err)
	}
	want := filepath.Join(dir, "clair", "clair.db")
	if got != want {
		t.Fatalf("DefaultPath with XDG_CACHE_HOME = %q, want %q", got, want)
	}
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", home)
	got, err = DefaultPath()
	if err != nil {
		t.Fatalf("DefaultPath: %v", err)
	}
	if want := filepath.Join(home, ".cache", "clair", "clair.db"); got != want {
		t.Fatalf("DefaultPath with HOME = %q, want %q", got, want)
	}
}

func TestDetailsFirstWins(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	mk := func(ns, desc string) *vuln.Advisory {
		return &vuln.Advisory{Feed: "debian", Name: "CVE-1", Namespace: ns, Package: "p", Description: desc}
	}
	_, err := s.ReplaceFeed(ctx, "debian", "fp", func(emit func(*vuln.Advisory) error) error {
		for _, a := range []*vuln.Advisory{mk("debian:10", ""), mk("debian:11", "first"), mk("debian:12", "second")} {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReplaceFeed: %v", err)
	}
	got := []*vuln.Advisory{{Feed: "debian", Name: "CVE-1", Package: "p"}}
	if err := s.Details(ctx, got); err != nil || got[0].Description != "first" {
		t.Fatalf("Details = %q, %v; want the first non-empty description", got[0].Description, err)
	}
	// One record, however many namespaces name the package.
	var recs string
	if err := s.r.QueryRowContext(ctx, `SELECT recs FROM package_detail`).Scan(&recs); err != nil || strings.Count(recs, "CVE-1") != 1 {
		t.Fatalf("package_detail = %q, %v; want one record", recs, err)
	}
}

// TestQueryPlan keeps the matcher's queries on the primary keys: a change of
// schema or query that fell back to a scan would pass every other test and
// make matching a hundred times slower.
func TestQueryPlan(t *testing.T) {
	s := openTemp(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{advisoriesQuery, []string{
			"SEARCH f USING PRIMARY KEY (namespace=?)",
			"SEARCH a USING PRIMARY KEY (feed=? AND namespace=? AND package=?)",
		}},
		{detailsQuery, []string{"SEARCH d USING INDEX package_detail_key (feed=? AND package=?)"}},
		{briefQuery, []string{"SEARCH d USING INDEX package_detail_key (feed=? AND package=?)"}},
	} {
		p := queryPlan(t, s.r, tc.query, "x", `["a","b"]`)
		for _, w := range tc.want {
			if !strings.Contains(p, w) || strings.Contains(p, "SCAN a") || strings.Contains(p, "SCAN d") {
				t.Errorf("query plan lacks %q:\n%s", w, p)
			}
		}
	}
}

// queryPlan returns the lines of SQLite's plan for query on db.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n")
}

// TestPackageDetailPlan keeps the grouping of details by package a stream:
// pair_stage read in key order, each detail found by its key, no sort of
// every record (which would hold a snapshot's details in memory).
func TestPackageDetailPlan(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	// Any ReplaceFeed leaves the writer's temporary tables in place.
	if _, err := s.ReplaceFeed(ctx, "debian", "fp", func(func(*vuln.Advisory) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	p := queryPlan(t, s.w, packageDetailBuild, "x")
	if !strings.Contains(p, "SCAN p") || !strings.Contains(p, "SEARCH d USING PRIMARY KEY (name=?)") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("package_detail build plan:\n%s", p)
	}
}

// TestReadersDoNotWait: while ReplaceFeed's transaction is open (load still
// running), reads go on and see the previous snapshot; other writes queue
// for the one writer connection, as long as their context lets them.
func TestReadersDoNotWait(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	old := &vuln.Advisory{Feed: "debian", Name: "CVE-1", Namespace: "debian:12", Package: "glibc", FixedIn: "1"}
	if _, err := s.ReplaceFeed(ctx, "debian", "fp1", func(emit func(*vuln.Advisory) error) error { return emit(old) }); err != nil {
		t.Fatalf("ReplaceFeed: %v", err)
	}
	if err := s.PutIndexReport(ctx, &vuln.IndexReport{ManifestHash: "sha256:1"}); err != nil {
		t.Fatalf("PutIndexReport: %v", err)
	}

	inLoad, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.ReplaceFeed(ctx, "debian", "fp2", func(emit func(*vuln.Advisory) error) error {
			for i := range 1000 { // more than a batch: rows are written, not committed
				if err := emit(&vuln.Advisory{Name: fmt.Sprintf("CVE-2-%d", i), Namespace: "debian:12", Package: "glibc", FixedIn: "2"}); err != nil {
					return err
				}
			}
			close(inLoad)
			<-release
			return nil
		})
		done <- err
	}()
	<-inLoad

	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := s.Advisories(rctx, "debian:12", []string{"glibc"})
	if err != nil || len(got) != 1 || got[0].FixedIn != "1" {
		t.Fatalf("Advisories during an update = %v, %v; want the previous snapshot", got, err)
	}
	if st, err := s.FeedState(rctx, "debian"); err != nil || st.Fingerprint != "fp1" {
		t.Fatalf("FeedState during an update = %+v, %v; want fp1", st, err)
	}
	if _, err := s.IndexReport(rctx, "sha256:1"); err != nil {
		t.Fatalf("IndexReport during an update: %v", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer wcancel()
	if err := s.PutLayerScan(wctx, "l", "s", "v", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PutLayerScan during an update: err = %v, want it to wait for the writer until its deadline", err)
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatalf("ReplaceFeed: %v", err)
	}
	if got, err := s.Advisories(ctx, "debian:12", []string{"glibc"}); err != nil || len(got) != 1000 {
		t.Fatalf("Advisories after the update: %d, %v; want 1000", len(got), err)
	}
	if err := s.PutLayerScan(ctx, "l", "s", "v", nil); err != nil {
		t.Fatalf("PutLayerScan after the update: %v", err)
	}
}

func TestNULRejectedCleanly(t *testing.T) {
	s := openTemp(t)
	_, err := s.ReplaceFeed(t.Context(), "f", "fp", func(emit func(*vuln.Advisory) error) error {
		return emit(&vuln.Advisory{Name: "a\x00b"})
	})
	if !errors.Is(err, feedwrite.ErrNUL) || !strings.HasPrefix(err.Error(), "sqlite: replace feed f: advisory") {
		t.Fatalf("err = %v, want a sqlite: replace feed error wrapping feedwrite.ErrNUL", err)
	}
}

func TestNotify(t *testing.T) {
	storetest.RunNotify(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestMigratePackageDetail opens a database written before migration 0012
// (details per name) and finds every advisory's details, by package, with
// a name two packages share under each.
func TestMigratePackageDetail(t *testing.T) {
	ctx := t.Context()
	rec := func(name, fixed string) string {
		return strings.Join([]string{name, "affected", "dpkg", fixed, "high", "4", "="}, "\x00")
	}
	path := oldDatabase(t, 11,
		[]any{`INSERT INTO advisory VALUES (?, ?, ?, ?, ?)`, "debian", "debian:12", "openssl", 0, rec("CVE-1", "3.0.1")},
		[]any{`INSERT INTO advisory VALUES (?, ?, ?, ?, ?)`, "debian", "debian:11", "openssl", 1, rec("CVE-1", "1.1.1")},
		[]any{`INSERT INTO advisory VALUES (?, ?, ?, ?, ?)`, "debian", "debian:12", "openssl", 2, rec("CVE-2", "3.0.2")},
		[]any{`INSERT INTO advisory VALUES (?, ?, ?, ?, ?)`, "debian", "debian:12", "curl", 3, rec("CVE-2", "8.0")},
		[]any{`INSERT INTO feed_namespace VALUES (?, ?)`, "debian:12", "debian"},
		[]any{`INSERT INTO feed_namespace VALUES (?, ?)`, "debian:11", "debian"},
		[]any{`INSERT INTO vulnerability_detail VALUES (?, ?, ?, ?, ?, ?)`, "debian", "CVE-1", "one", `["https://x/1"]`, "2024-01-02T00:00:00Z", ""},
		[]any{`INSERT INTO vulnerability_detail VALUES (?, ?, ?, ?, ?, ?)`, "debian", "CVE-2", "two", "", "", `["GHSA-2"]`},
	)

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a 0011 database: %v", err)
	}
	defer s.Close()
	got, err := s.Advisories(ctx, "debian:12", []string{"openssl", "curl"})
	if err != nil || len(got) != 3 {
		t.Fatalf("Advisories = %d, %v; want 3", len(got), err)
	}
	if err := s.Details(ctx, got); err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		want := map[string]string{"CVE-1": "one", "CVE-2": "two"}[a.Name]
		if a.Description != want {
			t.Errorf("%s %s: description %q, want %q", a.Package, a.Name, a.Description, want)
		}
		if a.Name == "CVE-1" && (len(a.Links) != 1 || a.Issued.IsZero()) {
			t.Errorf("CVE-1: links %q issued %v", a.Links, a.Issued)
		}
		if a.Name == "CVE-2" && (len(a.Aliases) != 1 || a.Aliases[0] != "GHSA-2") {
			t.Errorf("%s CVE-2: aliases %q", a.Package, a.Aliases)
		}
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'vulnerability_detail'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("vulnerability_detail still there: %d, %v", n, err)
	}
}

// TestBriefDetails: BriefDetails fills Issued and Aliases as Details does,
// for a name under two packages, and leaves Description and Links alone.
func TestBriefDetails(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	issued := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	mk := func(pkg string) *vuln.Advisory {
		return &vuln.Advisory{Feed: "osv", Namespace: "pypi", Package: pkg, Name: "GHSA-1", State: vuln.StateAffected,
			Description: "desc", Links: []string{"https://x"}, Issued: issued, Aliases: []string{"CVE-2024-1", "PYSEC-1"}}
	}
	if _, err := s.ReplaceFeed(ctx, "osv", "fp", func(emit func(*vuln.Advisory) error) error {
		if err := emit(mk("a")); err != nil {
			return err
		}
		b := mk("b")
		b.Description, b.Links, b.Aliases, b.Issued = "", nil, nil, time.Time{} // details given once, under a
		return emit(b)
	}); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"a", "b"} {
		brief := []*vuln.Advisory{{Feed: "osv", Package: pkg, Name: "GHSA-1", Description: "kept"}}
		if err := s.BriefDetails(ctx, brief); err != nil {
			t.Fatal(err)
		}
		if a := brief[0]; !a.Issued.Equal(issued) || !slices.Equal(a.Aliases, []string{"CVE-2024-1", "PYSEC-1"}) || a.Description != "kept" || a.Links != nil {
			t.Errorf("BriefDetails %s: %+v", pkg, a)
		}
		full := []*vuln.Advisory{{Feed: "osv", Package: pkg, Name: "GHSA-1"}}
		if err := s.Details(ctx, full); err != nil {
			t.Fatal(err)
		}
		if a := full[0]; a.Description != "desc" || !slices.Equal(a.Links, []string{"https://x"}) || !a.Issued.Equal(issued) || len(a.Aliases) != 2 {
			t.Errorf("Details %s: %+v", pkg, a)
		}
	}
}
