package connect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKind(t *testing.T) {
	for conn, want := range map[string]string{
		"":                                   "sqlite",
		"sqlite:/var/lib/clair/clair.db":     "sqlite",
		"/tmp/clair.db":                      "sqlite",
		"clair.db":                           "sqlite",
		"./weird=name.db":                    "sqlite",
		"postgres://clair@db/clair":          "postgres",
		"postgresql://clair@db:5432/clair":   "postgres",
		"host=db user=clair dbname=clair":    "postgres",
		" user=clair host=/var/run/postgres": "postgres",
	} {
		if got := Kind(conn); got != want {
			t.Errorf("Kind(%q) = %s, want %s", conn, got, want)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	st, err := Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("sqlite file not created: %v", err)
	}
}

func TestRedacted(t *testing.T) {
	for conn, want := range map[string]string{
		"postgres://clair:s3cret@db:5432/clair?sslmode=disable": "postgres://clair@db:5432/clair?sslmode=disable",
		"postgresql://db/clair?password=s3cret&sslmode=verify":  "postgresql://db/clair?sslmode=verify",
		"host=db user=clair password=s3cret dbname=clair":       "host=db user=clair dbname=clair",
		"sqlite:/var/lib/clair.db":                              "/var/lib/clair.db",
	} {
		if got := Redacted(conn); got != want {
			t.Errorf("Redacted(%q) = %q, want %q", conn, got, want)
		}
		if strings.Contains(Redacted(conn), "s3cret") {
			t.Errorf("Redacted(%q) keeps the password", conn)
		}
	}
}
