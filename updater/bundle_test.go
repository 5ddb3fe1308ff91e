package updater

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/feed/repo2cpe"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/postgres"
	"github.com/openclair/clair/store/sqlite"
)

// bundleStore is what the bundle tests need of a store.
type bundleStore interface {
	Store
	FeedStates(ctx context.Context) ([]store.FeedState, error)
	Close() error
}

// exportReal exports the real Debian tracker (gzip, as mirrors serve it;
// the repository's excerpt under the race detector) and Red Hat's
// repository-to-CPE mapping from the shared test data.
func exportReal(t *testing.T) (string, *BundleManifest) {
	t.Helper()
	urls := map[string]string{
		"debian":          realTracker(t),
		"redhat-repo2cpe": sharedtest.Path(t, "feeds/redhat/repository-to-cpe.json.gz"),
	}
	u := &Updater{URLs: urls, TempDir: t.TempDir()}
	p := filepath.Join(t.TempDir(), "updates.tar.zst")
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := u.ExportBundle(context.Background(), out, []feed.Feed{debian.New(), repo2cpe.New()})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if len(m.Feeds) != 2 || m.Feeds[0].Advisories < 100 || m.Feeds[1].Advisories < 100 {
		t.Fatalf("manifest %+v", m.Feeds)
	}
	return p, m
}

func sqliteStore(t *testing.T) bundleStore {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// postgresStore opens the real PostgreSQL in a schema of the test's own,
// dropped at the end; it skips where there is none, except in CI.
func postgresStore(t *testing.T) bundleStore {
	conn := os.Getenv("CLAIR_TEST_POSTGRES")
	if conn == "" {
		conn = "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL: %v; CI must run this test", err)
		}
		t.Skipf("PostgreSQL unreachable (CLAIR_TEST_POSTGRES): %v", err)
	}
	defer c.Close(context.Background())
	var b [8]byte
	rand.Read(b[:])
	schema := "clairtest_" + hex.EncodeToString(b[:])
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), conn)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	st, err := postgres.Open(context.Background(), conn+" search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestBundle exports real feeds into a bundle and imports it into SQLite
// and the real PostgreSQL, from a file and over HTTP: each feed lands with
// the manifest's fingerprint and count, and a second import skips every
// feed as unchanged.
func TestBundle(t *testing.T) {
	p, m := exportReal(t)
	fi, _ := os.Stat(p)
	t.Logf("bundle of %d bytes: %+v", fi.Size(), m.Feeds)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(p))))
	defer srv.Close()
	for _, c := range []struct {
		name string
		open func(*testing.T) bundleStore
		src  string
	}{
		{"sqlite-file", sqliteStore, p},
		{"sqlite-http", sqliteStore, srv.URL + "/" + filepath.Base(p)},
		{"postgres-file", postgresStore, "file://" + p},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := c.open(t)
			u := &Updater{Store: st, TempDir: t.TempDir(), Client: srv.Client()}
			res, err := u.ImportBundleURL(ctx, c.src)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range m.Feeds {
				if !res[i].Changed || res[i].Advisories != e.Advisories {
					t.Errorf("%s: %+v, want %d advisories", e.Feed, res[i], e.Advisories)
				}
				s, err := st.FeedState(ctx, e.Feed)
				if err != nil || s.Fingerprint != e.Fingerprint || s.Advisories != e.Advisories {
					t.Errorf("%s stored: %+v %v", e.Feed, s, err)
				}
			}
			res, err = u.ImportBundleURL(ctx, c.src)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Changed {
					t.Errorf("second import of %s: replaced, want skipped (same fingerprint)", r.Feed)
				}
			}
			if ents, _ := os.ReadDir(u.TempDir); len(ents) != 0 {
				t.Errorf("%d temporary files left", len(ents))
			}
		})
	}
}

// TestBundleDamaged: a bundle whose snapshot does not match its manifest
// is refused, naming the file, and the stored snapshot stays.
func TestBundleDamaged(t *testing.T) {
	p, m := exportReal(t)
	ctx := context.Background()
	st := sqliteStore(t)
	u := &Updater{Store: st, TempDir: t.TempDir()}
	if _, err := u.ImportBundleURL(ctx, p); err != nil {
		t.Fatal(err)
	}
	// Cut in the middle of the first snapshot.
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := u.ImportBundle(ctx, bytes.NewReader(b[:len(b)/2]))
	if err == nil {
		t.Fatalf("truncated bundle accepted: %+v", res)
	}
	for _, e := range m.Feeds {
		if s, err := st.FeedState(ctx, e.Feed); err != nil || s.Advisories != e.Advisories {
			t.Errorf("%s after a damaged import: %+v %v", e.Feed, s, err)
		}
	}
	if _, err := u.ImportBundle(ctx, strings.NewReader("not a bundle")); err == nil || !strings.Contains(err.Error(), "not a bundle") {
		t.Errorf("garbage: %v", err)
	}
}

// smallBundle exports the repository's Debian tracker excerpt.
func smallBundle(t testing.TB) []byte {
	var buf bytes.Buffer
	u := &Updater{URLs: map[string]string{"debian": filepath.Join("..", "testdata", "feeds", "debian-bullseye-nginx.json")}, TempDir: t.TempDir()}
	if abs, err := filepath.Abs(u.URLs["debian"]); err == nil {
		u.URLs["debian"] = abs
	}
	if _, err := u.ExportBundle(context.Background(), &buf, []feed.Feed{debian.New()}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBundleBound: a manifest announcing a snapshot over
// MaxBundleSnapshot is refused before anything is spilled to disk.
func TestBundleBound(t *testing.T) {
	b := smallBundle(t)
	old := MaxBundleSnapshot
	MaxBundleSnapshot = 1024
	defer func() { MaxBundleSnapshot = old }()
	u := &Updater{Store: sqliteStore(t), TempDir: t.TempDir()}
	_, err := u.ImportBundle(context.Background(), bytes.NewReader(b))
	if err == nil || !strings.Contains(err.Error(), "over the 1024 byte limit") {
		t.Fatalf("import past the bound: %v", err)
	}
	if ents, _ := os.ReadDir(u.TempDir); len(ents) != 0 {
		t.Errorf("%d files spilled", len(ents))
	}
}

func FuzzImportBundle(f *testing.F) {
	f.Add(smallBundle(f))
	f.Add([]byte("not a bundle"))
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "clair.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	old := MaxBundleSnapshot
	MaxBundleSnapshot = 16 << 20
	defer func() { MaxBundleSnapshot = old }()
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		u := &Updater{Store: st, TempDir: tmp, Force: true}
		u.ImportBundle(context.Background(), bytes.NewReader(b))
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Fatalf("%d temporary files left", len(ents))
		}
	})
}
