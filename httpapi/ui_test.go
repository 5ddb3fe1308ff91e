package httpapi_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/internal/browsertest"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// TestUIInBrowser loads the page in headless Chromium, reads the counts it
// shows, clicks through to the manifest's report and checks the counts its
// script computed there, with screenshots of both.
func TestUIInBrowser(t *testing.T) {
	b := browsertest.New(t)
	f := newServer(t, false)
	shots := t.TempDir()
	if d := os.Getenv("CLAIR_SCREENSHOTS"); d != "" {
		shots = d
		os.MkdirAll(d, 0o755)
	}
	f.errors.Observe("ubuntu", errors.New("ubuntu: fetch https://security-metadata.canonical.com/: 503 Service Unavailable"))
	f.errors.Observe("debian", nil)

	b.Go(f.srv.URL + "/ui/")
	counts := map[string]int{}
	for _, r := range report.Rows(f.vr) {
		counts[r.Vuln.NormalizedSeverity.String()]++
	}
	var cells []string
	b.Eval(`return Array.from(document.querySelectorAll('#manifests tbody tr[data-digest="`+f.manifest+`"] td')).map(function(td){return td.textContent})`, &cells)
	if len(cells) < 2 {
		t.Fatalf("no row for %s: %q", f.manifest, cells)
	}
	want := []string{f.manifest[:len("sha256:")+16] + "…", cells[1], strconv.Itoa(len(f.vr.Packages))}
	for _, s := range []vuln.Severity{vuln.Critical, vuln.High, vuln.Medium, vuln.Low, vuln.Negligible, vuln.Unknown} {
		want = append(want, strconv.Itoa(counts[s.String()]))
	}
	want = append(want, strconv.Itoa(len(report.Rows(f.vr))))
	if strings.Join(cells, "|") != strings.Join(want, "|") {
		t.Errorf("manifest row %q, want %q", cells, want)
	}
	var feeds []string
	b.Eval(`return Array.from(document.querySelectorAll('#feeds tbody tr')).map(function(tr){return tr.innerText.replace(/\s+/g," ")})`, &feeds)
	st, err := f.st.FeedState(t.Context(), "debian")
	if err != nil {
		t.Fatal(err)
	}
	if len(feeds) != 2 || !strings.HasPrefix(feeds[0], "debian ") || !strings.Contains(feeds[0], " "+strconv.Itoa(st.Advisories)+" none") ||
		!strings.HasPrefix(feeds[1], "ubuntu never never 0 ubuntu: fetch") || !strings.Contains(feeds[1], "503 Service Unavailable") {
		t.Errorf("feeds %q (debian has %d advisories)", feeds, st.Advisories)
	}
	if got := b.Text(b.Find("#notifications-none")); got != "None." {
		t.Errorf("notifications %q", got)
	}
	b.Screenshot(filepath.Join(shots, "ui-index.png"))

	// Notifications appear when the notifier has some.
	f.notes.mu.Lock()
	f.notes.list = []notify.Notification{{ID: "1", Manifest: f.manifest, Reason: notify.Added, Vulnerability: notify.VulnerabilitySummary{
		Name: "CVE-2024-28085", NormalizedSeverity: "Low", FixedInVersion: "2.36.1-8+deb11u2", Package: &vuln.Package{Name: "bsdutils", Version: "1:2.36.1-8+deb11u1"}}}}
	f.notes.mu.Unlock()
	b.Go(f.srv.URL + "/ui/")
	var note string
	b.Eval(`return document.querySelector('#notifications tbody tr').innerText.replace(/\s+/g," ")`, &note)
	if note != "added "+f.manifest[:len("sha256:")+16]+"… CVE-2024-28085 Low bsdutils 1:2.36.1-8+deb11u1 2.36.1-8+deb11u2" {
		t.Errorf("notification row %q", note)
	}

	// Click through to the manifest's report.
	b.Click(b.Find(`#manifests a[href="manifest/` + f.manifest + `"]`))
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ready string
		b.Eval(`return document.body && document.body.dataset.ready || ""`, &ready)
		if ready == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the report page at %s did not finish its script", b.URL())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if u := b.URL(); u != f.srv.URL+"/ui/manifest/"+f.manifest {
		t.Errorf("clicked through to %s", u)
	}
	n := len(report.Rows(f.vr))
	if got, want := b.Text(b.Find("#shown")), strconv.Itoa(n)+" of "+strconv.Itoa(n)+" findings shown"; got != want {
		t.Errorf("report page: %q, want %q", got, want)
	}
	for name, c := range counts {
		if got := b.Text(b.Find("#count-" + name)); got != strconv.Itoa(c) {
			t.Errorf("report page: %s %s, want %d", name, got, c)
		}
	}
	b.Screenshot(filepath.Join(shots, "ui-manifest.png"))
}
