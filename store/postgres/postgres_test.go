package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/storetest"
	"github.com/openclair/clair/vuln"
)

// defaultConn is the test database when CLAIR_TEST_POSTGRES names none.
const defaultConn = "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"

func testConnString() string {
	if s := os.Getenv("CLAIR_TEST_POSTGRES"); s != "" {
		return s
	}
	return defaultConn
}

// testSchema creates a schema of its own for the test and returns a pool
// configuration whose connections use it, so that tests (and test runs)
// never see each other's tables. The schema is dropped when the test ends.
// Without a reachable PostgreSQL the test is skipped, except in CI (CI=true),
// where skipping would hide that the store went untested.
func testSchema(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	cfg, drop, err := createSchema()
	if errors.Is(err, errUnreachable) {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%v; CI must run these tests", err)
		}
		tb.Skipf("%v; set CLAIR_TEST_POSTGRES to a test database to run these tests", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return cfg
}

var errUnreachable = errors.New("PostgreSQL unreachable")

// createSchema creates a uniquely named schema and returns a pool
// configuration whose connections use it, and the function that drops it.
func createSchema() (cfg *pgxpool.Config, drop func() error, err error) {
	connString := testConnString()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		// Not the string itself: it may hold a password. pgx's error
		// names the host, user and database.
		return nil, nil, fmt.Errorf("%w (CLAIR_TEST_POSTGRES, default %q): %w", errUnreachable, defaultConn, err)
	}
	defer conn.Close(context.Background())
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	schema := "clairtest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, nil, fmt.Errorf("create schema: %w", err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, connString)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	cfg, err = pgxpool.ParseConfig(connString)
	if err != nil {
		_ = drop()
		return nil, nil, err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	return cfg, drop, nil
}

// openCfg opens a Store on cfg (a copy: pgxpool refuses a config used twice)
// and closes it when the test ends.
func openCfg(tb testing.TB, cfg *pgxpool.Config) *Store {
	tb.Helper()
	s, err := OpenConfig(tb.Context(), cfg.Copy())
	if err != nil {
		tb.Fatalf("OpenConfig: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openCfg(t, testSchema(t)) })
}

// TestOpenConnString opens through the connection-string API, with the schema
// chosen in the string itself.
func TestOpenConnString(t *testing.T) {
	cfg := testSchema(t)
	schema := cfg.ConnConfig.RuntimeParams["search_path"]
	conn := testConnString()
	if strings.Contains(conn, "://") {
		t.Skip("CLAIR_TEST_POSTGRES is a URL; this test appends key=value settings")
	}
	s, err := Open(t.Context(), conn+" search_path="+schema)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := s.FeedState(t.Context(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FeedState on a new schema: %v, want ErrNotFound", err)
	}
	if _, err := Open(t.Context(), "host=127.0.0.1 port=notaport"); err == nil || !strings.HasPrefix(err.Error(), "postgres: open: ") {
		t.Fatalf("Open of a bad string: %v", err)
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations = %+v, want 0001 first", ms)
	}
}

// TestConcurrentOpenAndReplace has two instances start on a new schema at
// once (the migration lock), then replace the same feed at once, several
// times (the feed lock): every update must succeed, and what is left must be
// exactly one of the snapshots, not a mix.
func TestConcurrentOpenAndReplace(t *testing.T) {
	cfg := testSchema(t)
	var (
		stores [2]*Store
		errs   [2]error
		wg     sync.WaitGroup
	)
	for i := range stores {
		wg.Go(func() {
			stores[i], errs[i] = OpenConfig(t.Context(), cfg.Copy())
		})
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("OpenConfig %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}

	const rows = 5000 // enough for the updates to overlap
	gen := func(g int) func(emit func(*vuln.Advisory) error) error {
		return func(emit func(*vuln.Advisory) error) error {
			for i := range rows {
				a := &vuln.Advisory{Feed: "debian", Name: fmt.Sprintf("CVE-%d", i), Namespace: "debian:12",
					Package: fmt.Sprintf("p%d", i%100), State: vuln.StateAffected, FixedIn: fmt.Sprintf("gen-%d", g),
					Description: fmt.Sprintf("gen %d", g)}
				a.Ranges = []vuln.Range{{Fixed: a.FixedIn}}
				if err := emit(a); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var (
		mu  sync.Mutex
		ops = map[string]int{} // operation id → generation
	)
	const rounds = 3
	for i, s := range stores {
		wg.Go(func() {
			for r := range rounds {
				g := i*rounds + r
				op, err := s.ReplaceFeed(t.Context(), "debian", fmt.Sprintf("g%d", g), gen(g))
				if err != nil {
					t.Errorf("store %d: ReplaceFeed: %v", i, err)
					return
				}
				mu.Lock()
				ops[op.ID] = g
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	st, err := stores[0].FeedState(t.Context(), "debian")
	if err != nil {
		t.Fatalf("FeedState: %v", err)
	}
	g, ok := ops[st.Operation]
	if !ok || st.Fingerprint != fmt.Sprintf("g%d", g) || st.Advisories != rows {
		t.Fatalf("FeedState = %+v; want one of the operations %v with %d advisories", st, ops, rows)
	}
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("p%d", i)
	}
	for i, s := range stores {
		got, err := s.Advisories(t.Context(), "debian:12", names)
		if err != nil {
			t.Fatalf("store %d: Advisories: %v", i, err)
		}
		if len(got) != rows {
			t.Fatalf("store %d: %d advisories, want %d: snapshots merged", i, len(got), rows)
		}
		if err := s.Details(t.Context(), got); err != nil {
			t.Fatalf("store %d: Details: %v", i, err)
		}
		want := fmt.Sprintf("gen-%d", g)
		for _, a := range got {
			if a.FixedIn != want || a.Description != fmt.Sprintf("gen %d", g) {
				t.Fatalf("store %d: advisory %+v not of the committed snapshot %s", i, a, want)
			}
		}
	}
	var details int
	if err := stores[1].pool.QueryRow(t.Context(), `SELECT count(*) FROM vulnerability_detail`).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if details != rows {
		t.Fatalf("%d detail rows, want %d", details, rows)
	}
}

// TestReplaceFeedBatches writes more rows than one COPY batch holds, and
// checks a failure after a batch was written still rolls everything back.
func TestReplaceFeedBatches(t *testing.T) {
	s := openCfg(t, testSchema(t))
	ctx := t.Context()
	n := copyBatch*2 + 7
	load := func(fail bool) func(emit func(*vuln.Advisory) error) error {
		return func(emit func(*vuln.Advisory) error) error {
			for i := range n {
				a := &vuln.Advisory{Name: fmt.Sprintf("CVE-%d", i), Namespace: "ns", Package: fmt.Sprintf("p%d", i%10),
					Description: "d"}
				if err := emit(a); err != nil {
					return err
				}
			}
			if fail {
				return errors.New("boom")
			}
			return nil
		}
	}
	if _, err := s.ReplaceFeed(ctx, "f", "1", load(false)); err != nil {
		t.Fatalf("ReplaceFeed: %v", err)
	}
	if _, err := s.ReplaceFeed(ctx, "f", "2", load(true)); err == nil {
		t.Fatal("ReplaceFeed with a failing load succeeded")
	}
	st, err := s.FeedState(ctx, "f")
	if err != nil || st.Fingerprint != "1" || st.Advisories != n {
		t.Fatalf("FeedState = %+v, %v; want fingerprint 1, %d advisories", st, err, n)
	}
	got, err := s.Advisories(ctx, "ns", []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"})
	if err != nil || len(got) != n {
		t.Fatalf("Advisories: %d, %v; want %d", len(got), err, n)
	}
}

func TestNotify(t *testing.T) {
	storetest.RunNotify(t, func(t *testing.T) store.Store { return openCfg(t, testSchema(t)) })
}
