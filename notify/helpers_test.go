package notify_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openclair/clair/feed/alpine"
	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/apk"
	"github.com/openclair/clair/scanner/distro"
	"github.com/openclair/clair/scanner/dpkg"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/postgres"
	"github.com/openclair/clair/store/sqlite"
	_ "github.com/openclair/clair/version/apk"
	_ "github.com/openclair/clair/version/deb"
	"github.com/openclair/clair/vuln"
)

// testStore is a store that is both a store.Store and a notify.Store.
type testStore interface {
	store.Store
	notify.Store
}

// stores opens a fresh SQLite store and, when PostgreSQL is reachable, a
// fresh PostgreSQL schema: the notifier is checked on both.
func stores(t *testing.T) map[string]func(t *testing.T) testStore {
	return map[string]func(t *testing.T) testStore{
		"sqlite": func(t *testing.T) testStore {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "clair.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) testStore {
			return openPostgres(t)
		},
	}
}

func pgConn() string {
	if s := os.Getenv("CLAIR_TEST_POSTGRES"); s != "" {
		return s
	}
	return "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
}

// openPostgres opens a store in a schema of its own, dropped at the end.
func openPostgres(t testing.TB) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgConn())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (CLAIR_TEST_POSTGRES): %v", err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "notifytest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, pgConn()+" search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	schemaOf[s] = schema
	t.Cleanup(func() {
		s.Close()
		c, err := pgx.Connect(context.Background(), pgConn())
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	return s
}

// alpineAdvisories parses real Alpine secdb files with the alpine feed.
func alpineAdvisories(t testing.TB, branches ...string) []*vuln.Advisory {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, br := range branches {
		b, err := os.ReadFile(sharedtest.Path(t, "feeds/alpine/secdb/"+br+"/main.json"))
		if err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: br + "/main.json", Mode: 0o644, Size: int64(len(b))})
		tw.Write(b)
	}
	tw.Close()
	var out []*vuln.Advisory
	err := alpine.New().Parse(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// replace writes a feed snapshot.
func replace(t testing.TB, s store.Store, feed, fp string, advs []*vuln.Advisory) store.UpdateOperation {
	t.Helper()
	op, err := s.ReplaceFeed(context.Background(), feed, fp, func(emit func(*vuln.Advisory) error) error {
		for _, a := range advs {
			cp := *a
			if err := emit(&cp); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// indexLayer indexes a real image layer (a .tar.gz of a root filesystem)
// with the real scanners, as a one-layer image named manifest.
func indexLayer(t testing.TB, rel, manifest string) *vuln.IndexReport {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean(strings.TrimPrefix(h.Name, "./"))
		if strings.HasPrefix(name, "..") || name == "." {
			continue
		}
		p := filepath.Join(root, name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p, b, 0o644)
		case tar.TypeSymlink:
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.Symlink(h.Linkname, p)
		}
	}
	return indexDir(t, root, manifest)
}

// indexDir indexes a real root filesystem folder.
func indexDir(t testing.TB, root, manifest string) *vuln.IndexReport {
	t.Helper()
	ctx := context.Background()
	img, err := image.Open(ctx, "dir:"+root, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ix := &index.Indexer{Scanners: []scanner.Scanner{&apk.Scanner{}, &dpkg.Scanner{}, &distro.Scanner{}}}
	r, err := ix.Index(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	r.ManifestHash = manifest
	return r
}

// debianAdvisories parses the real Debian tracker (the full-size JSON) and
// keeps the advisories of the source packages of these reports.
func debianAdvisories(t testing.TB, irs []*vuln.IndexReport) []*vuln.Advisory {
	t.Helper()
	src, err := os.Open(sharedtest.Path(t, "feeds/debian/tracker-json-from-osv.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	zr, err := gzip.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, ir := range irs {
		for _, p := range ir.Packages {
			want[p.SourceName()] = true
		}
	}
	var out []*vuln.Advisory
	err = debian.New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		if want[a.Package] {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sharedPath(t testing.TB, rel string) string { return sharedtest.Path(t, rel) }

// openPostgres2 opens a second store (another instance) on the schema of s.
func openPostgres2(t testing.TB, s *postgres.Store) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgConn()+" search_path="+schemaOf[s])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// schemaOf remembers the schema of each store openPostgres opened.
var schemaOf = map[*postgres.Store]string{}
