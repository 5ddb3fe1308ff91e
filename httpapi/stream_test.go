package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclair/clair/httpapi"
	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/service"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// TestVulnReportStreamed checks that the first (streamed) answer and the
// cached ones carry the same report, identity and gzip, whichever form
// was asked first.
func TestVulnReportStreamed(t *testing.T) {
	for _, firstGzip := range []bool{false, true} {
		f := newServer(t, false)
		url := f.srv.URL + "/matcher/api/v1/vulnerability_report/" + f.manifest
		var bodies [][]byte
		for i, gz := range []bool{firstGzip, !firstGzip, firstGzip, !firstGzip} {
			// Set either way: Go's transport would otherwise ask for gzip
			// and hide that it did.
			h := map[string]string{"Accept-Encoding": "identity"}
			if gz {
				h["Accept-Encoding"] = "gzip"
			}
			res, b := get(t, url, h)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("request %d: %s: %s", i, res.Status, b)
			}
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != gz {
				t.Errorf("request %d: gzip %v, asked %v", i, got, gz)
			}
			// Only the very first answer is streamed, without a length.
			if streamed := res.ContentLength < 0; streamed != (i == 0) {
				t.Errorf("request %d (first gzip %v): Content-Length %d", i, firstGzip, res.ContentLength)
			}
			for _, k := range []string{"Content-Type", "Cache-Control", "Vary"} {
				if res.Header.Get(k) == "" {
					t.Errorf("request %d: no %s", i, k)
				}
			}
			bodies = append(bodies, b)
		}
		for i, b := range bodies[1:] {
			if !bytes.Equal(b, bodies[0]) {
				t.Errorf("first gzip %v: answer %d differs from the streamed one", firstGzip, i+1)
			}
		}
		var vr vuln.VulnerabilityReport
		if err := json.Unmarshal(bodies[0], &vr); err != nil {
			t.Fatal(err)
		}
		if len(vr.Vulnerabilities) == 0 || len(vr.Vulnerabilities) != len(f.vr.Vulnerabilities) {
			t.Errorf("streamed report: %d vulnerabilities, want %d", len(vr.Vulnerabilities), len(f.vr.Vulnerabilities))
		}
	}
}

// BenchmarkFirstReportHTTP asks the server for the load test's 700-package
// image's report (10,275 pairs, 9.8 MB) over loopback HTTP with a Matcher
// that has no report cached ("first", its advisories cold or warm), beside
// the floor of the same request answered from the cache ("cached": the
// time to just send the same bytes).
// ttfb-ns/op is the time to the first byte of the body.
func BenchmarkFirstReportHTTP(b *testing.B) {
	st := bigreport.Store(b, b.TempDir())
	defer st.Close()
	benchFirstReport(b, st)
}

// BenchmarkFirstReportHTTPEnriched is BenchmarkFirstReportHTTP with what a
// deployment's enrichment feeds hold as well (bigreport.Enrich: CVSS for
// every CVE of the report, a day of EPSS scores, the KEV catalog).
func BenchmarkFirstReportHTTPEnriched(b *testing.B) {
	st := bigreport.Store(b, b.TempDir())
	defer st.Close()
	bigreport.Enrich(b, st)
	benchFirstReport(b, st)
}

func benchFirstReport(b *testing.B, st *sqlite.Store) {
	var h atomic.Pointer[http.Handler]
	warm := &match.Matcher{Store: st}
	// newHandler starts a server with no report cached; its advisories
	// are compiled and described anew (cold: a server just started, or
	// the feed just updated) or shared with the previous one (warm: other
	// images with these packages were matched since the feed's update).
	newHandler := func(cold bool) {
		mm := warm
		if cold {
			mm = &match.Matcher{Store: st}
		}
		m := &service.Matcher{Reports: st, Match: mm, Feeds: st}
		hh := (&httpapi.Server{Mode: httpapi.ModeMatcher, Matcher: m}).Handler()
		h.Store(&hh)
	}
	newHandler(false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	url := srv.URL + "/matcher/api/v1/vulnerability_report/" + bigreport.Manifest
	fetch := func(b *testing.B, gz bool) (ttfb time.Duration, n int64) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		var one [1]byte
		if _, err := io.ReadFull(res.Body, one[:]); err != nil {
			b.Fatal(err)
		}
		ttfb = time.Since(start)
		n, err = io.Copy(io.Discard, res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %v", res.Status, err)
		}
		return ttfb, n + 1
	}
	for _, gz := range []bool{false, true} {
		enc := "identity"
		if gz {
			enc = "gzip"
		}
		b.Run("cached-"+enc, func(b *testing.B) {
			fetch(b, gz)
			var ttfb time.Duration
			cpu := bigreport.CPU()
			for b.Loop() {
				t, n := fetch(b, gz)
				ttfb += t
				b.SetBytes(n)
			}
			bigreport.ReportCPU(b, cpu)
			b.ReportMetric(float64(ttfb)/float64(b.N), "ttfb-ns/op")
		})
		for _, cold := range []bool{true, false} {
			name := "first-warm-matcher-" + enc
			if cold {
				name = "first-cold-matcher-" + enc
			}
			b.Run(name, func(b *testing.B) {
				var ttfb time.Duration
				var cpu time.Duration
				for b.Loop() {
					b.StopTimer()
					newHandler(cold)
					c := bigreport.CPU()
					b.StartTimer()
					t, n := fetch(b, gz)
					cpu += bigreport.CPU() - c
					ttfb += t
					b.SetBytes(n)
				}
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(ttfb)/float64(b.N), "ttfb-ns/op")
			})
		}
	}
}
