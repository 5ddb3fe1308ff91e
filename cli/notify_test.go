package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/notify"
)

// olderTracker writes an older snapshot of the real tracker excerpt: every
// third CVE of each package not yet published.
func olderTracker(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for _, cves := range d {
		ids := make([]string, 0, len(cves))
		for id := range cves {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for i, id := range ids {
			if i%3 == 0 {
				delete(cves, id)
			}
		}
	}
	out, _ := json.Marshal(d)
	p := filepath.Join(t.TempDir(), "older.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUpdateListsAffectedImages: an image scanned with an older snapshot of
// the real Debian data; `clairctl update` to the current snapshot prints
// exactly the vulnerabilities its report gained, and `clairctl
// notifications` lists them again.
func TestUpdateListsAffectedImages(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	current := filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json")
	older := olderTracker(t, current)
	img := "docker-archive:" + filepath.Join(root, "testdata/images/debian-11-nginx.tar")

	before := scanJSON(t, "--db", db, "scan", "--only", "debian", "--feed", "debian=file://"+older, "--format", "json", img)
	out, errOut, code := clairctl(t, "--db", db, "update", "--only", "debian", "--feed", "debian=file://"+current, "--format", "json")
	if code != 0 {
		t.Fatalf("update: exit %d\n%s", code, errOut)
	}
	var sets []struct {
		ID            string
		Feed          string
		Notifications []notify.Notification
	}
	if err := json.Unmarshal([]byte(out), &sets); err != nil {
		t.Fatalf("update --format json: %v\n%s", err, out)
	}
	after := scanJSON(t, "--db", db, "scan", "--skip-update", "--format", "json", img)

	var want []string
	for id, v := range after.Vulnerabilities {
		if _, ok := before.Vulnerabilities[id]; !ok {
			b, _ := json.Marshal(notify.Summarize(v))
			want = append(want, after.ManifestHash+" added "+string(b))
		}
	}
	slices.Sort(want)
	if len(want) < 20 {
		t.Fatalf("the update adds only %d vulnerabilities to the report", len(want))
	}
	var got []string
	for _, s := range sets {
		if s.Feed != "debian" {
			t.Errorf("set of feed %q", s.Feed)
		}
		for _, n := range s.Notifications {
			b, _ := json.Marshal(n.Vulnerability)
			got = append(got, n.Manifest+" "+string(n.Reason)+" "+string(b))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("update printed %d changes, the report gained %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}

	// The table names the image, the change and the vulnerability.
	out, _, code = clairctl(t, "--db", db, "notifications")
	if code != 0 || !strings.Contains(out, "IMAGE") || strings.Count(out, after.ManifestHash) != len(want) {
		t.Fatalf("notifications table (exit %d):\n%s", code, out)
	}
	var cve string
	for _, v := range after.Vulnerabilities {
		if _, ok := before.Vulnerabilities[v.ID]; !ok {
			cve = v.Name
			break
		}
	}
	if !strings.Contains(out, cve) || !strings.Contains(out, string(notify.Added)) {
		t.Errorf("table lacks %s:\n%s", cve, out)
	}
	out, _, code = clairctl(t, "--db", db, "notifications", "--format", "json")
	var again []struct{ Notifications []notify.Notification }
	if code != 0 || json.Unmarshal([]byte(out), &again) != nil || len(again) != 1 || len(again[0].Notifications) != len(want) {
		t.Fatalf("notifications --format json (exit %d):\n%s", code, out)
	}

	// An update that changes nothing affects nothing.
	out, _, code = clairctl(t, "--db", db, "update", "--only", "debian", "--feed", "debian=file://"+current)
	if code != 0 || !strings.Contains(out, "No scanned image is affected.") {
		t.Errorf("unchanged update (exit %d):\n%s", code, out)
	}
	if _, errOut, code := clairctl(t, "--db", db, "notifications", "--format", "xml"); code == 0 || !strings.Contains(errOut, "--format") {
		t.Errorf("bad format: exit %d %s", code, errOut)
	}
}
