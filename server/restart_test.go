package server

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// privatePostgres runs a PostgreSQL server of its own for the test (initdb
// in a temporary folder, as the postgres user), so that it can be stopped
// and started without disturbing the machine's shared one.
type privatePostgres struct {
	bin, dir, port, log, opts string
}

func (p *privatePostgres) pgctl(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, "pg_ctl"), "-D", p.dir, "-w", "-t", "30"}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 || os.Geteuid() != 0 {
		t.Skip("needs PostgreSQL's server binaries and root (to run them as the postgres user)")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Skip("needs runuser")
	}
	p := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1])}
	base, err := os.MkdirTemp("", "clair-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	p.dir = filepath.Join(base, "data")
	if out, err := exec.Command("chown", "postgres", base).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	if out, err := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(p.bin, "initdb"), "-D", p.dir, "-A", "trust", "-U", "postgres").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	p.port = addr[strings.LastIndexByte(addr, ':')+1:]
	// The server's output goes to a file: an inherited pipe would keep
	// pg_ctl's output open as long as the server runs.
	p.log = filepath.Join(base, "log")
	p.opts = fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1", p.port, base)
	p.pgctl(t, "-o", p.opts, "-l", p.log, "start")
	t.Cleanup(func() {
		_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(p.bin, "pg_ctl"), "-D", p.dir, "-m", "immediate", "stop").Run()
	})
	return p
}

// TestPostgresRestart stops the database under a running server: requests
// fail fast with Clair's error JSON while it is away, and succeed again
// once it is back, without restarting the server.
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: runs a PostgreSQL server and the clair binary")
	}
	pg := startPrivatePostgres(t)
	bs := newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	feeds, _ := filepath.Abs(filepath.Join(root, "testdata/feeds/alpine"))
	api, _ := startProcess(t, fmt.Sprintf(`log_level: warn
indexer:
  connstring: host=127.0.0.1 port=%s user=postgres dbname=postgres sslmode=disable
  allow_private_networks: true
updaters:
  sets: [alpine]
  config:
    alpine:
      url: file://%s
`, pg.port, feeds))
	waitFeed(t, api, "alpine")
	if code, _, body := do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest); code != http.StatusCreated {
		t.Fatalf("index: %d %s", code, body)
	}
	report := api + "/matcher/api/v1/vulnerability_report/" + bs.manifest.Hash
	if code, _, _ := do(t, "GET", report, nil); code != 200 {
		t.Fatalf("report: %d", code)
	}

	pg.pgctl(t, "-m", "fast", "stop")
	for i := 0; i < 5; i++ {
		start := time.Now()
		code, hdr, body := do(t, "GET", report, nil)
		// 503 with Retry-After, and a body that names neither the
		// database nor its address.
		if took := time.Since(start); code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" ||
			!strings.Contains(string(body), `"message"`) || !strings.Contains(string(body), `"request_id"`) ||
			strings.Contains(string(body), "postgres") || strings.Contains(string(body), "127.0.0.1") || took > 5*time.Second {
			t.Errorf("with the database away: %d (Retry-After %q) in %s: %s", code, hdr.Get("Retry-After"), took, body)
		}
	}
	// Writes too: a manifest posted while the database is away.
	other := *bs.manifest
	other.Hash = "sha256:" + strings.Repeat("ab", 32)
	if code, hdr, body := do(t, "POST", api+"/indexer/api/v1/index_report", &other); code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Errorf("POST with the database away: %d: %s", code, body)
	}
	if code, _, _ := do(t, "GET", api+"/health", nil); code != 200 {
		t.Errorf("/health with the database away: %d", code)
	}

	pg.pgctl(t, "-o", pg.opts, "-l", pg.log, "start")
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _, body := do(t, "GET", report, nil)
		if code == 200 && strings.Contains(string(body), "CVE-2024-9143") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the database came back: %d %.200s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Writes too.
	if code, _, body := do(t, "DELETE", api+"/indexer/api/v1/index_report", []string{bs.manifest.Hash}); code != 200 {
		t.Errorf("delete after the restart: %d %s", code, body)
	}
}
