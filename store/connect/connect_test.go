package connect

import (
	"os"
	"path/filepath"
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
