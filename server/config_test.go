package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/config"
)

// Every check of the file is config's: run reports all of a file's
// problems at once, by key, before opening anything.
func TestRunReportsEveryConfigProblem(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	path := filepath.Join(t.TempDir(), "config.yaml")
	cfg := "indexer:\n  connstring: sqlite:" + db + "\n  max_layer_size: -1\nauth:\n  psk:\n    key: \"!!!\"\ntls:\n  cert: a.pem\nhttp:\n  idle_timout: 1m\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := run(t.Context(), []string{"-config", path}, &syncWriter{w: &out}, nil)
	if err == nil {
		t.Fatal("started")
	}
	for _, want := range []string{
		path,
		`line 10: unknown key "idle_timout" in http`,
		"indexer.max_layer_size: -1 is negative",
		"auth.psk.key: not valid base64",
		"tls: both cert and key are needed",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the store was opened for a config that does not validate")
	}
}

// Boot validates a Config built by other means than Parse, the same
// checks, so that a bad PSK key is refused before anything is served.
func TestBootValidates(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader("http_listen_addr: 127.0.0.1:0\nintrospection_addr: 127.0.0.1:0\nindexer:\n  connstring: sqlite:" + filepath.Join(t.TempDir(), "x.db") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.PSK = &config.PSK{Key: "not base64!"}
	cfg.HTTP.MaxConnections = -1
	err = Boot(t.Context(), cfg, Options{Ready: func(string, string) { t.Error("served") }})
	if err == nil || !strings.Contains(err.Error(), "auth.psk.key: not valid base64") || !strings.Contains(err.Error(), "http.max_connections: -1 is negative") {
		t.Fatalf("err = %v", err)
	}
	if err := Boot(t.Context(), cfg, Options{Mode: "both"}); err == nil || !strings.Contains(err.Error(), `mode "both": want combo, indexer, matcher or notifier`) {
		t.Fatalf("mode: %v", err)
	}
	var out strings.Builder
	if err := run(t.Context(), []string{"-mode", "both"}, &syncWriter{w: &out}, nil); err == nil || !strings.Contains(err.Error(), `-mode "both": want combo`) {
		t.Fatalf("-mode: %v", err)
	}
}
