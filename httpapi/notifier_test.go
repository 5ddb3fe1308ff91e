package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// notifierServer serves a SQLite store holding one set "set-1" of n
// notifications over 3 vulnerabilities (added) and 1 removed.
func notifierServer(t *testing.T, n int) (*httptest.Server, *sqlite.Store, []notify.Notification) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var ns []notify.Notification
	for i := range n {
		r := notify.Added
		name := fmt.Sprintf("CVE-2024-000%d", i%3)
		if i == n-1 {
			r, name = notify.Removed, "CVE-2023-9999"
		}
		ns = append(ns, notify.Notification{ID: fmt.Sprintf("n%03d", i), Manifest: fmt.Sprintf("sha256:%03d", i), Reason: r,
			Vulnerability: notify.VulnerabilitySummary{Name: name, NormalizedSeverity: "High", FixedInVersion: "1.2-3",
				Package: &vuln.Package{Name: "openssl"}, Distribution: &vuln.Distribution{DID: "debian", VersionID: "12"}}})
	}
	if _, err := st.PutNotificationSet(context.Background(), notify.Set{ID: "set-1", Operation: "op", Feed: "debian", Created: time.Unix(1700000000, 0)}, ns); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Mode: ModeNotifier, Notifications: st}).Handler())
	t.Cleanup(srv.Close)
	return srv, st, ns
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestNotificationPages(t *testing.T) {
	srv, st, want := notifierServer(t, 25)
	base := srv.URL + "/notifier/api/v1/notification/set-1"
	var got []notify.Notification
	next := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pages do not end")
		}
		url := base + "?page_size=10"
		if next != "" {
			url += "&next=" + next
		}
		var p notificationPage
		if st := getJSON(t, url, &p); st != http.StatusOK {
			t.Fatalf("%s: %d", url, st)
		}
		if p.Page.Size != len(p.Notifications) {
			t.Errorf("page size %d for %d notifications", p.Page.Size, len(p.Notifications))
		}
		got = append(got, p.Notifications...)
		if p.Page.Next == "" {
			break
		}
		next = p.Page.Next
	}
	if len(got) != len(want) {
		t.Fatalf("%d notifications, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Reason != want[i].Reason || got[i].Vulnerability.Name != want[i].Vulnerability.Name {
			t.Fatalf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// The wire shape is Clair's.
	resp, err := http.Get(base + "?page_size=1")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.NewDecoder(resp.Body).Decode(&raw)
	resp.Body.Close()
	page, _ := raw["page"].(map[string]any)
	ns, _ := raw["notifications"].([]any)
	if page["size"] != 1.0 || page["next"] == nil || len(ns) != 1 {
		t.Fatalf("wire page = %v", raw)
	}
	n0 := ns[0].(map[string]any)
	v := n0["vulnerability"].(map[string]any)
	for _, k := range []string{"name", "fixed_in_version", "links", "description", "normalized_severity", "package", "distribution", "repository"} {
		if _, ok := v[k]; !ok {
			t.Errorf("vulnerability lacks %q: %v", k, v)
		}
	}
	for _, k := range []string{"id", "manifest", "reason"} {
		if _, ok := n0[k]; !ok {
			t.Errorf("notification lacks %q", k)
		}
	}

	// Bad input: a clear 400 or 404, and the server stays up.
	for _, tc := range []struct {
		url  string
		code int
		msg  string
	}{
		{base + "?page_size=0", 400, "page_size"},
		{base + "?page_size=1000000000", 400, "page_size"},
		{base + "?page_size=-1", 400, "page_size"},
		{base + "?page_size=ten", 400, "page_size"},
		{base + "?next=garbage", 400, "next"},
		{base + "?next=-5", 400, "next"},
		{base + "?next=007", 400, "next"},
		{srv.URL + "/notifier/api/v1/notification/nope", 404, "not found"},
		{srv.URL + "/notifier/api/v1/notification/" + strings.Repeat("x", 200), 400, "notification id"},
		{srv.URL + "/v1/notifications/set-1?limit=0", 400, "limit"},
		{srv.URL + "/v1/notifications/set-1?page=zz", 400, "page"},
		{srv.URL + "/api/v1/notifications/nope", 404, "not found"},
	} {
		resp, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(fmt.Sprint(body), tc.msg) {
			t.Errorf("%s: %d %v, want %d naming %q", tc.url, resp.StatusCode, body, tc.code, tc.msg)
		}
	}
	// A token past the end is an empty last page.
	var p notificationPage
	if code := getJSON(t, base+"?next=999", &p); code != 200 || len(p.Notifications) != 0 || p.Page.Next != "" {
		t.Errorf("past the end: %d %+v", code, p)
	}

	// DELETE marks it read.
	req, _ := http.NewRequest(http.MethodDelete, base, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete: %v %v", resp, err)
	}
	resp.Body.Close()
	if s, err := st.NotificationSet(context.Background(), "set-1"); err != nil || s.Read == nil {
		t.Fatalf("not marked read: %+v %v", s, err)
	}
	req, _ = http.NewRequest(http.MethodDelete, srv.URL+"/notifier/api/v1/notification/nope", nil)
	resp, _ = http.DefaultClient.Do(req)
	if resp.StatusCode != 404 {
		t.Errorf("delete of an unknown set: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// TestV1Notification: the classic API walks each vulnerability change with
// its layers, Limit at a time, under /v1 and /api/v1.
func TestV1Notification(t *testing.T) {
	srv, _, want := notifierServer(t, 10)
	for _, prefix := range []string{"/v1", "/api/v1"} {
		seen := map[string]int{} // "reason name layer"
		page := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("pages do not end")
			}
			var env struct{ Notification v1Notification }
			url := srv.URL + prefix + "/notifications/set-1?limit=2"
			if page != "" {
				url += "&page=" + page
			}
			if code := getJSON(t, url, &env); code != 200 {
				t.Fatalf("%s: %d", url, code)
			}
			n := env.Notification
			if n.Name != "set-1" || n.Created != "1700000000" || n.Limit != 2 {
				t.Fatalf("notification = %+v", n)
			}
			for r, wl := range map[notify.Reason]*v1VulnerabilityWithLayers{notify.Added: n.New, notify.Removed: n.Old} {
				if wl == nil {
					continue
				}
				if len(wl.LayersIntroducingVulnerability) > 2 || len(wl.OrderedLayersIntroducingVulnerability) != len(wl.LayersIntroducingVulnerability) {
					t.Fatalf("page of %d layers: %+v", len(wl.LayersIntroducingVulnerability), wl)
				}
				for _, l := range wl.LayersIntroducingVulnerability {
					seen[string(r)+" "+wl.Vulnerability.Name+" "+l]++
				}
			}
			if n.NextPage == "" {
				break
			}
			page = n.NextPage
		}
		if len(seen) != len(want) {
			t.Fatalf("%s: %d changes seen, want %d: %v", prefix, len(seen), len(want), seen)
		}
		for _, w := range want {
			if seen[string(w.Reason)+" "+w.Vulnerability.Name+" "+w.Manifest] != 1 {
				t.Errorf("%s: %s %s %s seen %d times", prefix, w.Reason, w.Vulnerability.Name, w.Manifest, seen[string(w.Reason)+" "+w.Vulnerability.Name+" "+w.Manifest])
			}
		}
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/v1/notifications/set-1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete: %v %v", resp, err)
	}
	resp.Body.Close()
	var env struct{ Notification v1Notification }
	getJSON(t, srv.URL+"/v1/notifications/set-1", &env)
	if env.Notification.Deleted == "" {
		t.Errorf("Deleted not set after DELETE: %+v", env.Notification)
	}
}

// FuzzPageTokens: the notifier APIs' page tokens come from clients; any
// string is either refused or read back to the token it is.
func FuzzPageTokens(f *testing.F) {
	for _, s := range []string{"", "1", "500", "007", "-5", "1-2", "0-0", "99999999999999999999", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := cursor(s); err == nil && s != "" && strconv.Itoa(n) != s {
			t.Fatalf("cursor(%q) = %d", s, n)
		}
		if g, o, err := v1Page(s); err == nil && v1PageToken(g, o) != s {
			t.Fatalf("v1Page(%q) = %d, %d", s, g, o)
		}
	})
}
