package httpapi_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/httpapi"
	"github.com/openclair/clair/internal/reporttest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/service"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

var testKey = []byte("a pre-shared key of 32 bytes....")

type fixture struct {
	st       *sqlite.Store
	srv      *httptest.Server
	vr       *vuln.VulnerabilityReport
	manifest string
	errors   *httpapi.FeedErrors
	notes    *notes
}

// notes is a NotificationLister over a fixed list (the notifier's store is
// another branch's work; the page only lists what it is given).
type notes struct {
	mu   sync.Mutex
	list []notify.Notification
}

func (n *notes) RecentNotifications(_ context.Context, limit int) ([]notify.Notification, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.list) > limit {
		return n.list[:limit], nil
	}
	return n.list, nil
}

// newServer serves the debian-11-nginx image's stored report from a real
// SQLite store, with the web page, behind PSK auth when withAuth.
func newServer(t *testing.T, withAuth bool) *fixture {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ir, vr, err := reporttest.DebianNginx(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	m := &service.Matcher{Reports: st, Match: &match.Matcher{Store: st}, Feeds: st}
	f := &fixture{st: st, vr: vr, manifest: ir.ManifestHash, errors: &httpapi.FeedErrors{}, notes: &notes{}}
	s := &httpapi.Server{Mode: httpapi.ModeCombo, Matcher: m,
		UI: &httpapi.UI{Matcher: m, Manifests: st, Feeds: st, Errors: f.errors, Notifications: f.notes}}
	if withAuth {
		s.Auth = (&auth.PSK{Key: testKey, Issuers: []string{"test"}}).Middleware
	}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// TestVulnReportFormats asks the matcher API for each format, by ?format=
// and by Accept, and checks each answer holds the JSON report's findings.
func TestVulnReportFormats(t *testing.T) {
	f := newServer(t, false)
	url := f.srv.URL + "/matcher/api/v1/vulnerability_report/" + f.manifest
	rows := report.Rows(f.vr)

	res, body := get(t, url, nil)
	var vr vuln.VulnerabilityReport
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &vr) != nil {
		t.Fatalf("default: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	if got := len(report.Rows(&vr)); got != len(rows) {
		t.Fatalf("JSON has %d findings, the report %d", got, len(rows))
	}
	if v := res.Header.Get("Vary"); v != "Accept, Accept-Encoding" {
		t.Errorf("Vary %q: caches must key on Accept too", v)
	}

	for _, tc := range []struct {
		query, accept, ctype string
		check                func(body []byte) int
	}{
		{"sarif", "", "application/sarif+json", func(b []byte) int {
			var l struct {
				Runs []struct{ Results []json.RawMessage }
			}
			json.Unmarshal(b, &l)
			return len(l.Runs[0].Results)
		}},
		{"", "application/sarif+json", "application/sarif+json", func(b []byte) int {
			var l struct {
				Runs []struct{ Results []json.RawMessage }
			}
			json.Unmarshal(b, &l)
			return len(l.Runs[0].Results)
		}},
		{"cyclonedx", "", "application/vnd.cyclonedx+json; version=1.6", cdxPairs},
		{"", "application/vnd.cyclonedx+json", "application/vnd.cyclonedx+json; version=1.6", cdxPairs},
		{"html", "", "text/html; charset=utf-8", func(b []byte) int { return strings.Count(string(b), "<tr data-sev=") }},
		{"", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8", func(b []byte) int { return strings.Count(string(b), "<tr data-sev=") }},
		{"cosign-vuln", "", "application/vnd.cosign.vuln+json", func(b []byte) int {
			var p struct {
				Scanner struct {
					Result struct {
						R *vuln.VulnerabilityReport `json:"vulnerability_report"`
					} `json:"result"`
				} `json:"scanner"`
			}
			json.Unmarshal(b, &p)
			return len(report.Rows(p.Scanner.Result.R))
		}},
		{"spdx", "", "application/spdx+json", func(b []byte) int {
			var d struct{ Packages []json.RawMessage }
			json.Unmarshal(b, &d)
			if len(d.Packages) != len(f.vr.Packages)+1 {
				return -1
			}
			return len(rows)
		}},
		{"", "application/json", "application/json", func(b []byte) int {
			var vr vuln.VulnerabilityReport
			json.Unmarshal(b, &vr)
			return len(report.Rows(&vr))
		}},
	} {
		u := url
		if tc.query != "" {
			u += "?format=" + tc.query
		}
		h := map[string]string{"Accept-Encoding": "gzip"}
		if tc.accept != "" {
			h["Accept"] = tc.accept
		}
		res, body := get(t, u, h)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("format=%q Accept %q: %s, Content-Type %q, want %q", tc.query, tc.accept, res.Status, res.Header.Get("Content-Type"), tc.ctype)
			continue
		}
		if n := tc.check(body); n != len(rows) {
			t.Errorf("format=%q Accept %q: %d findings, the JSON report has %d", tc.query, tc.accept, n, len(rows))
		}
	}

	res, body = get(t, url+"?format=xml", nil)
	if res.StatusCode != 400 || !strings.Contains(string(body), `unknown format \"xml\"`) || !strings.Contains(string(body), "sarif") {
		t.Errorf("format=xml: %s %s", res.Status, body)
	}
	res, body = get(t, url+"?format=template", nil)
	if res.StatusCode != 400 {
		t.Errorf("format=template (a server-side file): %s %s", res.Status, body)
	}
	res, _ = get(t, f.srv.URL+"/matcher/api/v1/vulnerability_report/sha256:"+strings.Repeat("0", 64)+"?format=sarif", nil)
	if res.StatusCode != 404 {
		t.Errorf("unknown manifest as sarif: %s", res.Status)
	}
}

func cdxPairs(b []byte) int {
	var bom struct {
		Vulnerabilities []struct{ Affects []json.RawMessage }
	}
	json.Unmarshal(b, &bom)
	n := 0
	for _, v := range bom.Vulnerabilities {
		n += len(v.Affects)
	}
	return n
}

// TestUIAuth: the page is behind the API's auth.
func TestUIAuth(t *testing.T) {
	f := newServer(t, true)
	for _, p := range []string{"/ui/", "/ui/manifest/" + f.manifest, "/matcher/api/v1/vulnerability_report/" + f.manifest + "?format=html"} {
		if res, _ := get(t, f.srv.URL+p, nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %s", p, res.Status)
		}
		tok, err := auth.Sign(testKey, "test", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := get(t, f.srv.URL+p, map[string]string{"Authorization": "Bearer " + tok}); res.StatusCode != http.StatusOK {
			t.Errorf("%s with a token: %s", p, res.Status)
		}
	}
}

func TestUIErrors(t *testing.T) {
	f := newServer(t, false)
	if res, body := get(t, f.srv.URL+"/ui/manifest/nope", nil); res.StatusCode != 400 || !strings.Contains(string(body), `"nope" is not a manifest digest`) {
		t.Errorf("bad digest: %s %s", res.Status, body)
	}
	if res, _ := get(t, f.srv.URL+"/ui/manifest/sha256:"+strings.Repeat("0", 64), nil); res.StatusCode != 404 {
		t.Errorf("unknown manifest: %s", res.Status)
	}
}
