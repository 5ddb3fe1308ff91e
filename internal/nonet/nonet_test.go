package nonet

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestOnlyLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	if resp, err := http.Get(srv.URL); err != nil {
		t.Fatalf("loopback server refused: %v", err)
	} else {
		resp.Body.Close()
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for _, u := range []string{"https://security-tracker.debian.org/tracker/data/json", "http://192.0.2.1/", "http://[2001:db8::1]/"} {
		_, err := c.Get(u)
		if err == nil || !strings.Contains(err.Error(), "nonet: a test tried to reach") {
			t.Errorf("%s: err %v, want nonet's refusal", u, err)
		}
	}
}
