package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStartupLogSaysWhatRuns checks that the server logs the plugins it was
// built with and the store it opened (kind and place, no password), so that
// an operator sees what a custom binary holds and where its data goes.
func TestStartupLogSaysWhatRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	cfg := "http_listen_addr: 127.0.0.1:0\nintrospection_addr: 127.0.0.1:0\nlog_level: info\nmatcher:\n  disable_updaters: true\n"
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLAIR_DATABASE_URL", "sqlite:"+db)
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	w := &syncWriter{w: &logs}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-config", path}, w, func(string, string) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{
		`"msg":"plugin registered","kind":"scanner","name":"dpkg"`,
		`"msg":"plugin registered","kind":"feed","name":"debian"`,
		`"msg":"store opened","kind":"sqlite","at":"` + db + `"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("CLAIR_DATABASE_URL's store was not opened: %v", err)
	}
}
