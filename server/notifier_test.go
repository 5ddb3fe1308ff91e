package server

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/feed/alpine"
	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// TestNotifierEndToEnd: a real image indexed by the server, the real
// Alpine secdb written from an older snapshot to the current one, and the
// server's notifier delivering through the real webhook deliverer to a
// receiver that refuses the first deliveries, then reads the set back
// through the callback. What it reads is the change of the server's own
// vulnerability reports: exact, without duplicates.
func TestNotifierEndToEnd(t *testing.T) {
	images := []*blobServer{
		newBlobServer(t, filepath.Join(root, "testdata/images/alpine-3.18.9.tar")),
		newBlobServer(t, filepath.Join(root, "testdata/images/debian-11-nginx.tar")),
	}

	type received struct {
		id string
		ns []notify.Notification
	}
	var mu sync.Mutex
	var got []received
	requests, refuse := 0, 2
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		no := refuse > 0
		refuse--
		mu.Unlock()
		if no {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		var m struct {
			ID       string `json:"notification_id"`
			Callback string `json:"callback"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var all []notify.Notification
		next := ""
		for {
			resp, err := http.Get(m.Callback + "?page_size=3&next=" + next)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			var p struct {
				Page          struct{ Next string }
				Notifications []notify.Notification
			}
			err = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				http.Error(w, fmt.Sprint(resp.StatusCode, err), http.StatusBadGateway)
				return
			}
			all = append(all, p.Notifications...)
			if p.Page.Next == "" {
				break
			}
			next = p.Page.Next
		}
		mu.Lock()
		got = append(got, received{m.ID, all})
		mu.Unlock()
	}))
	defer hook.Close()

	// The callback names the API address, so it is chosen first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db := filepath.Join(t.TempDir(), "clair.db")
	cfg := fmt.Sprintf(`http_listen_addr: %s
introspection_addr: 127.0.0.1:0
log_level: warn
indexer:
  connstring: sqlite:%s
  allow_private_networks: true
matcher:
  disable_updaters: true
notifier:
  poll_interval: 100ms
  delivery_interval: 100ms
  disable_summary: true
  webhook:
    target: %s
    callback: http://%s/notifier/api/v1/notification
`, addr, db, hook.URL, addr)
	api, _ := startServer(t, cfg)

	var debianReport vuln.IndexReport
	for _, bs := range images {
		code, _, body := do(t, "POST", api+"/indexer/api/v1/index_report", bs.manifest)
		if code != http.StatusCreated {
			t.Fatalf("POST index_report: %d %s", code, body)
		}
		if bs == images[1] {
			json.Unmarshal(body, &debianReport)
		}
	}
	// The feed, written as an updater would, from the test's own
	// connection to the server's database: an older snapshot (three in
	// four advisories not yet published), then the current one.
	feeds := map[string][]*vuln.Advisory{
		"alpine": parseAlpine(t, sharedtest.Path(t, "feeds/alpine/secdb/v3.18/main.json")),
		"debian": parseDebian(t, &debianReport),
	}
	olds := map[string][]*vuln.Advisory{}
	for f, full := range feeds {
		for i, a := range full {
			if i%4 == 0 {
				olds[f] = append(olds[f], a)
			}
		}
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write := func(feed, fp string, advs []*vuln.Advisory) {
		if _, err := st.ReplaceFeed(context.Background(), feed, fp, func(emit func(*vuln.Advisory) error) error {
			for _, a := range advs {
				cp := *a
				if err := emit(&cp); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	reports := func() map[string]*vuln.VulnerabilityReport {
		out := map[string]*vuln.VulnerabilityReport{}
		for _, bs := range images {
			code, _, body := do(t, "GET", api+"/matcher/api/v1/vulnerability_report/"+bs.manifest.Hash, nil)
			var vr vuln.VulnerabilityReport
			if code != 200 || json.Unmarshal(body, &vr) != nil {
				t.Fatalf("vulnerability_report: %d %s", code, body)
			}
			out[bs.manifest.Hash] = &vr
		}
		return out
	}
	write("alpine", "old", olds["alpine"])
	write("debian", "old", olds["debian"])
	before := reports()
	// The notifier's baseline of the first snapshot comes before the
	// update, or it would take the update for the first snapshot.
	deadline := time.Now().Add(30 * time.Second)
	for {
		sets, err := st.NotificationSets(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(sets) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no baseline set")
		}
		time.Sleep(20 * time.Millisecond)
	}
	write("alpine", "new", feeds["alpine"])
	write("debian", "new", feeds["debian"])
	after := reports()

	var want []string
	for m, a := range after {
		b := before[m]
		for id, v := range a.Vulnerabilities {
			if _, ok := b.Vulnerabilities[id]; !ok {
				j, _ := json.Marshal(notify.Summarize(v))
				want = append(want, m+" added "+string(j))
			}
		}
		for id, v := range b.Vulnerabilities {
			if _, ok := a.Vulnerabilities[id]; !ok {
				j, _ := json.Marshal(notify.Summarize(v))
				want = append(want, m+" removed "+string(j))
			}
		}
	}
	slices.Sort(want)
	if len(want) < 20 {
		t.Fatalf("the update changes the report by only %d vulnerabilities", len(want))
	}

	deadline = time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a wrong second delivery
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || requests != 4 {
		t.Fatalf("%d sets received in %d requests, want 2 in 4 (2 refused)", len(got), requests)
	}
	var have []string
	ids := map[string]bool{}
	for _, r := range got {
		for _, n := range r.ns {
			if ids[n.ID] {
				t.Errorf("duplicate notification %+v", n)
			}
			ids[n.ID] = true
			b, _ := json.Marshal(n.Vulnerability)
			have = append(have, n.Manifest+" "+string(n.Reason)+" "+string(b))
		}
	}
	t.Logf("%d notifications received, exactly the reports' change", len(have))
	slices.Sort(have)
	if !slices.Equal(have, want) {
		t.Errorf("received:\n%s\nthe reports changed by:\n%s", bytes.Join(toBytes(have), []byte("\n")), bytes.Join(toBytes(want), []byte("\n")))
	}
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// parseAlpine parses a real secdb file with the alpine feed.
func parseAlpine(t *testing.T, path string) []*vuln.Advisory {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := newTar(&buf)
	tw("v3.18/main.json", b)
	var out []*vuln.Advisory
	if err := alpine.New().Parse(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// newTar returns a function adding a file to a tar stream written to w and
// flushed at each call.
func newTar(w *bytes.Buffer) func(name string, b []byte) {
	return func(name string, b []byte) {
		tw := tar.NewWriter(w)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b))})
		tw.Write(b)
		tw.Close()
	}
}

// parseDebian parses the real Debian tracker and keeps the advisories of
// the report's source packages.
func parseDebian(t *testing.T, ir *vuln.IndexReport) []*vuln.Advisory {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, "feeds/debian/tracker-json-from-osv.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, p := range ir.Packages {
		want[p.SourceName()] = true
	}
	if len(want) == 0 {
		t.Fatal("the Debian image has no packages")
	}
	var out []*vuln.Advisory
	if err := debian.New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		if want[a.Package] {
			out = append(out, a)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
