package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/config"
	"github.com/openclair/clair/notify"
)

const id = "3f1c2a9e-5b7d-4c1e-8f2a-6d9e0b1c2a3f"

// receiver is a real HTTP server on loopback that records what it got.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	hdrs   []http.Header
	srv    *httptest.Server
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, string(b))
		rc.hdrs = append(rc.hdrs, r.Header.Clone())
		rc.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// got is what the receiver recorded so far.
func (rc *receiver) got() ([]string, []http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...), append([]http.Header(nil), rc.hdrs...)
}

func deliverTo(t *testing.T, conf *config.Webhook, psk *config.PSK, client *http.Client) error {
	t.Helper()
	d, err := New(conf, psk, client)
	if err != nil {
		t.Fatal(err)
	}
	return d.Deliver(context.Background(), notify.Delivery{ID: id, Callback: "http://default/ignored/" + id})
}

func TestDelivered(t *testing.T) {
	for _, code := range []int{200, 201, 202, 204} {
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		err := deliverTo(t, &config.Webhook{
			Target:   rc.srv.URL + "/hook",
			Callback: "http://clair-notifier:6060/notifier/api/v1/notification",
			Headers:  map[string][]string{"X-Team": {"sec"}},
		}, nil, nil)
		if err != nil {
			t.Fatalf("%d: %v", code, err)
		}
		bodies, hdrs := rc.got()
		want := `{"notification_id":"` + id + `","callback":"http://clair-notifier:6060/notifier/api/v1/notification/` + id + `"}`
		if len(bodies) != 1 || bodies[0] != want {
			t.Errorf("%d: bodies %q, want %q", code, bodies, want)
		}
		h := hdrs[0]
		if h.Get("Content-Type") != "application/json" || h.Get("X-Team") != "sec" || h.Get("Authorization") != "" {
			t.Errorf("%d: headers %v", code, h)
		}
	}
}

// Without a callback of its own the deliverer sends the notifier's default.
func TestDefaultCallback(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	if err := deliverTo(t, &config.Webhook{Target: rc.srv.URL}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	bodies, _ := rc.got()
	if err := json.Unmarshal([]byte(bodies[0]), &m); err != nil || m["callback"] != "http://default/ignored/"+id {
		t.Errorf("%s %v", bodies[0], err)
	}
}

func TestClassicForm(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	if err := deliverTo(t, &config.Webhook{Target: rc.srv.URL, Callback: "http://clair:6060/v1/notifications/"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	bodies, _ := rc.got()
	if want := `{"Notification":{"Name":"` + id + `"}}`; bodies[0] != want {
		t.Errorf("body %s, want %s", bodies[0], want)
	}
}

// A signed webhook carries a bearer token the server's own PSK check accepts.
func TestSigned(t *testing.T) {
	key := "c2VjcmV0LWtleS1mb3Itd2ViaG9va3M="
	raw, _ := auth.DecodeKey(key)
	check := &auth.PSK{Key: raw, Issuers: []string{Issuer}}
	ok := check.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rc := newReceiver(t, ok.ServeHTTP)
	if err := deliverTo(t, &config.Webhook{Target: rc.srv.URL, Callback: "http://c/", Signed: true}, &config.PSK{Key: key}, nil); err != nil {
		t.Fatalf("signed delivery refused: %v", err)
	}
	_, hdrs := rc.got()
	tok := strings.TrimPrefix(hdrs[0].Get("Authorization"), "Bearer ")
	if err := check.Verify(tok); err != nil {
		t.Error(err)
	}
	// Under another key the receiver refuses it, and that is an error.
	err := deliverTo(t, &config.Webhook{Target: rc.srv.URL, Callback: "http://c/", Signed: true}, &config.PSK{Key: "b3RoZXIta2V5"}, nil)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("err = %v", err)
	}
	// Not signed: no token, refused.
	err = deliverTo(t, &config.Webhook{Target: rc.srv.URL, Callback: "http://c/"}, &config.PSK{Key: key}, nil)
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("err = %v", err)
	}
}

func TestFailures(t *testing.T) {
	huge := strings.Repeat("stack trace line\n", 1<<16) // 1.1 MB
	r500 := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, "boom: database gone\n"+huge)
	})
	err := deliverTo(t, &config.Webhook{Target: r500.srv.URL, Callback: "http://c/"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), r500.srv.URL+": 500 Internal Server Error: boom: database gone") || len(err.Error()) > 400 {
		t.Errorf("500: %.500v", err)
	}

	redirect := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
	err = deliverTo(t, &config.Webhook{Target: redirect.srv.URL, Callback: "http://c/"}, nil, nil)
	if b, _ := redirect.got(); err == nil || !strings.Contains(err.Error(), "302 Found") || len(b) != 1 {
		t.Errorf("redirect: %v (%d requests)", err, len(b))
	}

	release := make(chan struct{})
	hang := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	start := time.Now()
	err = deliverTo(t, &config.Webhook{Target: hang.srv.URL, Callback: "http://c/"}, nil, &http.Client{Timeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "Timeout") || !strings.Contains(err.Error(), hang.srv.URL) || time.Since(start) > 5*time.Second {
		t.Errorf("hang: %v after %v", err, time.Since(start))
	}

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	err = deliverTo(t, &config.Webhook{Target: down.URL, Callback: "http://c/"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), down.URL) {
		t.Errorf("down: %v", err)
	}

	// A cancelled context ends a delivery to a hanging receiver too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	d, _ := New(&config.Webhook{Target: hang.srv.URL, Callback: "http://c/"}, nil, nil)
	if err := d.Deliver(ctx, notify.Delivery{ID: id}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ctx: %v", err)
	}
}

// The credentials of a target URL never reach an error message.
func TestErrorRedactsTarget(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	target := strings.Replace(rc.srv.URL, "http://", "http://user:hunter2@", 1)
	err := deliverTo(t, &config.Webhook{Target: target, Callback: "http://c/"}, nil, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "503") {
		t.Errorf("err = %v", err)
	}
}

func TestRegistered(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	cfg, err := config.Parse(strings.NewReader("notifier:\n  webhook:\n    target: " + rc.srv.URL + "\n    callback: http://c/n/\n"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := notify.NewDeliverers(context.Background(), cfg)
	if err != nil || len(ds) != 1 || ds[0].Name() != "webhook" {
		t.Fatalf("%v %v", ds, err)
	}
	err = ds[0].Deliver(context.Background(), notify.Delivery{ID: "n1"})
	if b, _ := rc.got(); err != nil || len(b) != 1 || b[0] != `{"notification_id":"n1","callback":"http://c/n/n1"}` {
		t.Errorf("%v %q", err, b)
	}
	cfg.Notifier.Webhook = nil
	if ds, err := notify.NewDeliverers(context.Background(), cfg); err != nil || len(ds) != 0 {
		t.Errorf("unconfigured: %v %v", ds, err)
	}
}

// A receiver answering without end is read no further than the bound: the
// deliverer hangs up and the receiver's writes fail long before the end.
func TestAnswerBounded(t *testing.T) {
	const size = 256 << 20
	written := make(chan int64, 1)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		chunk := []byte(strings.Repeat("x", 64<<10))
		var n int64
		for n < size {
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				break
			}
		}
		written <- n
	})
	err := deliverTo(t, &config.Webhook{Target: rc.srv.URL, Callback: "http://c/"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "500") || len(err.Error()) > 400 {
		t.Errorf("err = %.500v", err)
	}
	select {
	case n := <-written:
		if n >= size {
			t.Errorf("the whole %d-byte answer was read", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the receiver is still writing: the answer was not bounded")
	}
}
