package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgConn is the test database, as the store tests take it.
func pgConn() string {
	if s := os.Getenv("CLAIR_TEST_POSTGRES"); s != "" {
		return s
	}
	return "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
}

// pgSchema creates a schema of the test's own in the test database and
// returns a connection to it for reading rows back; it is dropped at the
// end. Without PostgreSQL the test is skipped (failed in CI).
func pgSchema(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgConn())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (%v); set CLAIR_TEST_POSTGRES", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "clairctltest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(ctx)
	})
	return conn, schema
}

// TestDBPostgres runs update and scan through the CLI against the real
// PostgreSQL, in each form of connection string the server takes, and
// reads the rows back; no SQLite file appears in the working directory.
func TestDBPostgres(t *testing.T) {
	feedURL := "file://" + abs(t, filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"))
	img := "docker-archive:" + abs(t, filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	kv := pgConn()
	if strings.Contains(kv, "://") {
		t.Skip("CLAIR_TEST_POSTGRES is a URL; this test builds both forms from key=value")
	}
	fields := map[string]string{}
	for _, f := range strings.Fields(kv) {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	url := "postgres://" + fields["user"] + "@" + fields["host"] + ":" + or(fields["port"], "5432") + "/" + fields["dbname"] + "?sslmode=" + or(fields["sslmode"], "disable")
	for _, form := range []struct {
		name string
		conn func(schema string) string
		env  bool
	}{
		{"key=value", func(s string) string { return kv + " search_path=" + s }, false},
		{"postgres URL", func(s string) string { return url + "&search_path=" + s }, false},
		{"postgresql URL in CLAIR_DB", func(s string) string {
			return strings.Replace(url, "postgres://", "postgresql://", 1) + "&search_path=" + s
		}, true},
	} {
		t.Run(form.name, func(t *testing.T) {
			conn, schema := pgSchema(t)
			wd := t.TempDir()
			t.Chdir(wd)
			db := []string{"--db", form.conn(schema)}
			if form.env {
				t.Setenv("CLAIR_DB", form.conn(schema))
				db = nil
			}
			if _, errOut, code := clairctl(t, append([]string{"update", "--feed", "debian=" + feedURL}, db...)...); code != 0 {
				t.Fatalf("update: exit %d: %s", code, errOut)
			}
			out, errOut, code := clairctl(t, append(append([]string{"scan", "--skip-update", "--format", "json"}, db...), img)...)
			if code != 0 {
				t.Fatalf("scan: exit %d: %s", code, errOut)
			}
			if n := len(pairs(&decodeDoc(t, out).VulnerabilityReport)); n != 389 {
				t.Errorf("scan: %d findings, want 389", n)
			}
			ctx := context.Background()
			var advisories int
			if err := conn.QueryRow(ctx, "SELECT advisories FROM feed WHERE name = 'debian'").Scan(&advisories); err != nil || advisories != 1894 {
				t.Errorf("feed row: %d advisories, %v", advisories, err)
			}
			var manifests int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM index_report").Scan(&manifests); err != nil || manifests != 1 {
				t.Errorf("index_report rows: %d, %v", manifests, err)
			}
			if ents, _ := os.ReadDir(wd); len(ents) != 0 {
				t.Errorf("files in the working directory: %v", ents)
			}
		})
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestDBOnlyWhereUsed: --db is refused by the commands that use no
// database, and shown only in the help of those that do.
func TestDBOnlyWhereUsed(t *testing.T) {
	_, errOut, code := clairctl(t, "--db", "x.db", "manifest", "docker-archive:/nonexistent")
	if code != 2 || !strings.Contains(errOut, "--db: clairctl manifest does not use a database") {
		t.Errorf("manifest --db: exit %d: %s", code, errOut)
	}
	for cmd, want := range map[string]bool{"scan": true, "update": true, "diff": true, "sbom": true, "report": false, "manifest": false} {
		out, _, code := clairctl(t, cmd, "--help")
		if code != 0 || strings.Contains(out, "--db") != want {
			t.Errorf("%s --help: exit %d, shows --db: %v", cmd, code, !want)
		}
	}
}

// TestDBUnreachable: a PostgreSQL string that cannot connect is an error
// naming --db, and no SQLite file of that name appears.
func TestDBUnreachable(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, conn := range []string{"postgres://nobody@127.0.0.1:1/x", "postgresql://nobody@127.0.0.1:1/x", "host=127.0.0.1 port=1 user=nobody dbname=x"} {
		_, errOut, code := clairctl(t, "update", "--db", conn, "--only", "debian")
		if code != 2 || !strings.HasPrefix(errOut, "clairctl: --db: postgres") {
			t.Errorf("%s: exit %d: %s", conn, code, errOut)
		}
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Errorf("files created: %v", ents)
	}
}
