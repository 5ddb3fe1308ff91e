package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/vuln"
)

func pgConn() string {
	if s := os.Getenv("CLAIR_TEST_POSTGRES"); s != "" {
		return s
	}
	return "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
}

// pgSchema makes a fresh schema and returns a connection string using it.
func pgSchema(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgConn())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable in CI: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (%v); set CLAIR_TEST_POSTGRES", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("clair_e2e_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgConn())
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	return pgConn() + " search_path=" + schema
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// buildServer compiles the server once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clair-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "clair")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, "../cmd/clair").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// startProcess runs the server binary with cfg and waits for /readyz.
func startProcess(t *testing.T, cfg string) (api, intro string) {
	t.Helper()
	api, intro = freeAddr(t), freeAddr(t)
	cfg = fmt.Sprintf("http_listen_addr: %s\nintrospection_addr: %s\n%s", api, intro, cfg)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(serverBinary(t), "-config", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	var logs []string
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs = append(logs, sc.Text())
			logMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			logMu.Lock()
			t.Logf("server %s log:\n%s", api, strings.Join(logs, "\n"))
			logMu.Unlock()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + intro + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "http://" + api, "http://" + intro
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server %s not ready", api)
	return "", ""
}

// TestTwoInstancesOnePostgres runs two server processes on one database:
// the feed is updated by one of them, a manifest posted to both at once is
// indexed once, and each answers for what the other did.
func TestTwoInstancesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: builds and runs two servers")
	}
	conn := pgSchema(t)
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	feeds, _ := filepath.Abs(filepath.Join(root, "testdata/feeds/alpine"))
	cfg := fmt.Sprintf(`log_level: info
indexer:
  connstring: %s
  allow_private_networks: true
matcher:
  period: 1h
updaters:
  sets: [alpine]
  config:
    alpine:
      url: file://%s
auth:
  psk:
    key: %s
    iss: [ci]
`, conn, feeds, "c2VjcmV0LWtleS1mb3ItdGVzdHM=")
	a1, i1 := startProcess(t, cfg)
	a2, i2 := startProcess(t, cfg)
	key, _ := auth.DecodeKey("c2VjcmV0LWtleS1mb3ItdGVzdHM=")
	tok, err := auth.Sign(key, "ci", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + tok

	// Unsigned requests are refused; health stays open.
	if code, _, _ := do(t, "GET", a1+"/indexer/api/v1/index_state", nil); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", code)
	}
	if code, _, _ := do(t, "GET", a1+"/health", nil); code != 200 {
		t.Errorf("/health: %d", code)
	}

	// The feed: one update operation however many instances started.
	deadline := time.Now().Add(60 * time.Second)
	var ops map[string][]json.RawMessage
	for time.Now().Before(deadline) {
		_, _, body := do(t, "GET", a2+"/matcher/api/v1/internal/update_operation", nil, "Authorization", bearer)
		if json.Unmarshal(body, &ops) == nil && len(ops["alpine"]) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let a second updater, if any, finish
	_, _, body := do(t, "GET", a1+"/matcher/api/v1/internal/update_operation", nil, "Authorization", bearer)
	if err := json.Unmarshal(body, &ops); err != nil || len(ops["alpine"]) != 1 {
		t.Errorf("update operations: %s", body)
	}

	// Two manifests sharing their layers, each posted to both instances
	// at once: each manifest is indexed once, and each layer fetched once
	// across the instances (the store's lock on the layer digest).
	other := &vuln.Manifest{Hash: "sha256:" + strings.Repeat("0f", 32), Layers: bs.manifest.Layers}
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i, post := range []struct {
		api string
		m   *vuln.Manifest
	}{{a1, bs.manifest}, {a2, other}, {a2, bs.manifest}, {a1, other}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = do(t, "POST", post.api+"/indexer/api/v1/index_report", post.m, "Authorization", bearer)
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 201 {
			t.Errorf("post %d: %d, want 201", i, c)
		}
	}
	if n := bs.fetches(); n != len(bs.manifest.Layers) {
		t.Errorf("%d layer fetches, want %d (each layer once)", n, len(bs.manifest.Layers))
	}
	indexed := 0
	for _, i := range []string{i1, i2} {
		_, _, body := do(t, "GET", i+"/metrics", nil)
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, `clair_index_duration_seconds_count{result="ok"}`) {
				var n int
				fmt.Sscanf(strings.Fields(l)[1], "%d", &n)
				indexed += n
			}
		}
	}
	if indexed != 2 {
		t.Errorf("indexed %d times across the instances, want 2 (each manifest once)", indexed)
	}
	// Each instance reports on what the other indexed.
	for _, a := range []string{a1, a2} {
		code, _, body := do(t, "GET", a+"/matcher/api/v1/vulnerability_report/"+bs.manifest.Hash, nil, "Authorization", bearer)
		if code != 200 || !strings.Contains(string(body), "CVE-2024-9143") {
			t.Errorf("%s vulnerability_report: %d %.200s", a, code, body)
		}
	}
	// update_diff of the one operation: everything added.
	var first []struct {
		Ref string `json:"ref"`
	}
	_ = json.Unmarshal([]byte("["+string(ops["alpine"][0])+"]"), &first)
	code, _, body := do(t, "GET", a2+"/matcher/api/v1/internal/update_diff?cur="+first[0].Ref, nil, "Authorization", bearer)
	var diff struct {
		Added   []struct{ Name string }
		Removed []struct{ Name string }
	}
	if code != 200 || json.Unmarshal(body, &diff) != nil || len(diff.Added) < 100 || len(diff.Removed) != 0 {
		t.Errorf("update_diff: %d added %d removed %d %.300s", code, len(diff.Added), len(diff.Removed), body)
	}
}
