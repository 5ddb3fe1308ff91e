package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/config"
)

// TestSlowloris: a hundred clients sending a request body at a byte every
// 200 ms (and as many holding their connections open) against a
// 1-second read timeout and 32 connections: each is cut after its read
// timeout, and /health keeps answering throughout.
func TestSlowloris(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	api, _ := startServer(t, sqliteConfig(t, `http:
  read_header_timeout: 500ms
  read_timeout: 1s
  write_timeout: 2s
  max_connections: 32
`))
	addr := strings.TrimPrefix(api, "http://")
	const n = 100
	cut := make(chan time.Duration, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				cut <- 0
				return
			}
			defer c.Close()
			opened := time.Now()
			fmt.Fprintf(c, "POST /indexer/api/v1/index_report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
			for time.Since(opened) < 20*time.Second {
				if _, err := c.Write([]byte(" ")); err != nil {
					break
				}
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if _, err := c.Read(make([]byte, 512)); err != nil && !isTimeout(err) {
					break // the server answered or closed
				}
			}
			cut <- time.Since(opened)
		}()
	}
	// Health, while they trickle.
	time.Sleep(300 * time.Millisecond)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		resp, err := client.Get(api + "/health")
		if err != nil {
			t.Fatalf("/health under the slow clients: %v", err)
		}
		resp.Body.Close()
		if d := time.Since(t0); resp.StatusCode != 200 || d > 6*time.Second {
			t.Errorf("/health: %d after %s", resp.StatusCode, d)
		}
	}
	wg.Wait()
	close(cut)
	var worst time.Duration
	for d := range cut {
		worst = max(worst, d)
	}
	// Each is cut one read timeout after it got a connection; with 32
	// at a time, a hundred go through in four rounds.
	if worst > 10*time.Second {
		t.Errorf("a slow client held its connection for %s (all took %s)", worst, time.Since(start))
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestNeverReadingClients: clients that ask for a large response and
// never read it are cut at the write timeout, so their responses do not
// stay pinned in the server.
func TestNeverReadingClients(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	cfg, err := config.Parse(strings.NewReader(`http_listen_addr: 127.0.0.1:0
introspection_addr: 127.0.0.1:0
http:
  write_timeout: 1s
`))
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 64<<20)
	ended := make(chan error, 10)
	s := &server{
		api: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := w.Write(big)
			ended <- err
		}),
		introspection: http.NotFoundHandler(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, s, slog.New(slog.NewTextHandler(io.Discard, nil)), func(api, _ string) { addrs <- api })
	}()
	addr := <-addrs
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	for i := 0; i < 10; i++ {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	deadline := time.After(10 * time.Second)
	for i := 0; i < 10; i++ {
		select {
		case err := <-ended:
			if err == nil {
				t.Errorf("a 64 MiB response to a client that never reads was written whole")
			}
		case <-deadline:
			t.Fatalf("%d of 10 handlers still blocked writing to clients that never read", 10-i)
		}
	}
	cancel()
	<-done
}

// TestPprofOff: profiles are not served unless asked for.
func TestPprofOff(t *testing.T) {
	_, intro := startServer(t, sqliteConfig(t, ""))
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap"} {
		if code, _, _ := do(t, "GET", intro+p, nil); code != 404 {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	_, intro = startServer(t, sqliteConfig(t, "introspection_pprof: true\n"))
	if code, _, _ := do(t, "GET", intro+"/debug/pprof/cmdline", nil); code != 200 {
		t.Errorf("asked for: /debug/pprof/cmdline: %d", code)
	}
}

// TestTokenLifetime: the server refuses a token good for ten years, and
// auth.psk.max_lifetime moves the bound.
func TestTokenLifetime(t *testing.T) {
	key := "c2VjcmV0LWtleS1mb3ItdGVzdHM="
	sign := func(ttl time.Duration) string {
		k, _ := auth.DecodeKey(key)
		tok, err := auth.Sign(k, "ci", ttl)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	api, _ := startServer(t, sqliteConfig(t, "auth:\n  psk:\n    key: "+key+"\n"))
	if code, _, _ := do(t, "GET", api+"/indexer/api/v1/index_state", nil, "Authorization", sign(5*time.Minute)); code != 200 {
		t.Errorf("five-minute token: %d", code)
	}
	if code, _, body := do(t, "GET", api+"/indexer/api/v1/index_state", nil, "Authorization", sign(10*365*24*time.Hour)); code != 401 || !strings.Contains(string(body), "lifetime") {
		t.Errorf("ten-year token: %d %s", code, body)
	}
	api, _ = startServer(t, sqliteConfig(t, "auth:\n  psk:\n    key: "+key+"\n    max_lifetime: 48h\n"))
	if code, _, _ := do(t, "GET", api+"/indexer/api/v1/index_state", nil, "Authorization", sign(24*time.Hour)); code != 200 {
		t.Errorf("a day under max_lifetime 48h: %d", code)
	}
}

// TestConnectionsPerIP: past http.max_connections_per_ip, a client's
// further connections are closed, and its first keeps working.
func TestConnectionsPerIP(t *testing.T) {
	api, _ := startServer(t, sqliteConfig(t, "http:\n  max_connections_per_ip: 1\n"))
	addr := strings.TrimPrefix(api, "http://")
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	time.Sleep(100 * time.Millisecond)
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	fmt.Fprintf(second, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	second.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, _ := second.Read(make([]byte, 64)); n > 0 {
		t.Error("a second connection from one address was served")
	}
	fmt.Fprintf(first, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	first.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 64)
	if n, err := first.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		t.Errorf("first connection: %q %v", buf[:n], err)
	}
}
