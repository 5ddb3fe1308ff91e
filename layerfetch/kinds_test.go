package layerfetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/errkind"
)

// TestTrickle is the slow-source attack: a source sending a byte every
// 100 ms never trips a read timeout, and without a minimum rate would hold
// the fetch until the whole-fetch timeout. With a minimum of 1 KiB/s over
// 300 ms it ends after one window, as a Timeout the client may read.
func TestTrickle(t *testing.T) {
	blob, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(blob); i++ {
			if _, err := w.Write(blob[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	f := &Fetcher{AllowPrivate: true, MinRate: 1024, RateWindow: 300 * time.Millisecond}
	start := time.Now()
	err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/blob", nil))
	took := time.Since(start)
	if errkind.Of(err) != errkind.Timeout || !strings.Contains(errkind.Public(err), "less than 1024 bytes/s over 300ms") {
		t.Errorf("error %v (kind %v, public %q), want a Timeout for the rate", err, errkind.Of(err), errkind.Public(err))
	}
	if took > 3*time.Second {
		t.Errorf("the trickle was read for %s", took)
	}

	// A steady source is not cut by the watch, over several windows. (The
	// window is longer here: the watch counts what the reader took, and
	// under the race detector on a loaded machine the gzip reader itself
	// can stall for a few hundred milliseconds.)
	f = &Fetcher{AllowPrivate: true, MinRate: 1024, RateWindow: 2 * time.Second}
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(blob); i += 512 << 10 {
			w.Write(blob[i:min(i+512<<10, len(blob))])
			w.(http.Flusher).Flush()
			time.Sleep(300 * time.Millisecond)
		}
	}))
	defer fast.Close()
	if err := readLayer(t, context.Background(), f, manifest(dg, fast.URL+"/blob", nil)); err != nil {
		t.Errorf("steady source: %v", err)
	}
}

// TestKinds checks each failure's kind and that the public message keeps
// the server's internals out: no body of another server's reply, no
// resolved address.
func TestKinds(t *testing.T) {
	_, dg := alpineBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("internal admin console: secret"))
	}))
	defer srv.Close()
	f := &Fetcher{AllowPrivate: true}
	err := readLayer(t, context.Background(), f, manifest(dg, srv.URL+"/blob", nil))
	if errkind.Of(err) != errkind.Upstream || strings.Contains(errkind.Public(err), "secret") || !strings.Contains(err.Error(), "secret") {
		t.Errorf("status: kind %v public %q internal %q", errkind.Of(err), errkind.Public(err), err)
	}

	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	f = &Fetcher{}
	err = readLayer(t, context.Background(), f, manifest(dg, "http://localhost:"+port+"/blob", nil))
	var be *BlockedError
	if !errors.As(err, &be) || errkind.Of(err) != errkind.Invalid {
		t.Fatalf("blocked: %v (kind %v)", err, errkind.Of(err))
	}
	if pub := errkind.Public(err); strings.Contains(pub, "127.0.0.1") || strings.Contains(pub, "::1") || !strings.Contains(pub, "localhost:"+port) {
		t.Errorf("blocked: public message %q quotes the resolved address", pub)
	}

	if _, err := f.Image(manifest("sha256:xyz", srv.URL, nil)); errkind.Of(err) != errkind.Invalid {
		t.Errorf("bad manifest: kind %v", errkind.Of(err))
	}
}
