package report_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/internal/browsertest"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

func severityCounts(vr *vuln.VulnerabilityReport) (map[string]int, int) {
	counts := map[string]int{}
	max := 0
	for _, r := range report.Rows(vr) {
		counts[r.Vuln.NormalizedSeverity.String()]++
	}
	for _, c := range counts {
		if c > max {
			max = c
		}
	}
	return counts, max
}

// TestHTMLSelfContained: one file, nothing fetched, every finding a row,
// the suppressed apart.
func TestHTMLSelfContained(t *testing.T) {
	d := gated(t, 3)
	page := string(render(t, "html", d))
	for _, bad := range []string{"<link", " src=", "@import", "url(", "fetch(", "XMLHttpRequest"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q: it must load nothing", bad)
		}
	}
	if !strings.Contains(page, "default-src 'none'") {
		t.Error("no Content-Security-Policy forbidding the network")
	}
	if n, want := strings.Count(page, "<tr data-sev="), len(report.Rows(d.Report)); n != want {
		t.Errorf("%d finding rows, want %d", n, want)
	}
	sup := page[strings.Index(page, `id="suppressed"`):]
	if n := strings.Count(sup, "<tr><td>"); n != 3 || !strings.Contains(sup, "vex openvex.json") || !strings.Contains(sup, "accepted risk") {
		t.Errorf("suppressed section has %d rows or lacks the reasons:\n%.600s", n, sup)
	}
	counts, _ := severityCounts(d.Report)
	for name, c := range counts {
		if !strings.Contains(page, `id="count-`+name+`" class="count" data-total="`+strconv.Itoa(c)+`"`) {
			t.Errorf("chart lacks %s = %d", name, c)
		}
	}
	// Grouped by layer and package: one package group per (layer,
	// affected package).
	groups := map[string]bool{}
	for _, r := range report.Rows(d.Report) {
		groups[r.Package.ID] = true
	}
	if n := strings.Count(page, `<details class="pkg">`); n != len(groups) {
		t.Errorf("%d package groups, want %d affected packages", n, len(groups))
	}
	if !strings.Contains(page, `<details class="layer" open><summary>Layer <code title="sha256:`) {
		t.Error("no layer group naming its digest")
	}
}

func TestHTMLEscapes(t *testing.T) {
	vr := &vuln.VulnerabilityReport{
		Packages:               map[string]*vuln.Package{"1": {ID: "1", Name: "<script>alert(1)</script>", Version: "1"}},
		Vulnerabilities:        map[string]*vuln.Vulnerability{"v": {ID: "v", Name: `"><img onerror=x>`, Links: "javascript:alert(1)"}},
		PackageVulnerabilities: map[string][]string{"1": {"v"}},
	}
	page := string(render(t, "html", &report.Document{Report: vr}))
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img onerror") || strings.Contains(page, `href="javascript:`) {
		t.Fatal("report data reached the page unescaped")
	}
}

// TestHTMLInBrowser renders the page in headless Chromium: the counts its
// script computes, the chart's bars measured on a screenshot, the filter
// box and a sortable column.
func TestHTMLInBrowser(t *testing.T) {
	b := browsertest.New(t)
	d := gated(t, 3)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, render(t, "html", d), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Go("file://" + file)
	waitReady(t, b)

	rows := report.Rows(d.Report)
	counts, max := severityCounts(d.Report)
	for s := vuln.Critical; s >= vuln.Unknown; s-- {
		name := s.String()
		if got := b.Text(b.Find("#count-" + name)); got != strconv.Itoa(counts[name]) {
			t.Errorf("the page shows %s: %s, the report has %d", name, got, counts[name])
		}
	}
	if got, want := b.Text(b.Find("#shown")), strconv.Itoa(len(rows))+" of "+strconv.Itoa(len(rows))+" findings shown"; got != want {
		t.Errorf("shown %q, want %q", got, want)
	}

	shot := b.Screenshot(filepath.Join(outDir(t), "report.png"))
	for s := vuln.Critical; s >= vuln.Unknown; s-- {
		want := report.BarWidth(counts[s.String()], max) * 16
		got := browsertest.CountColor(shot, report.SeverityColors[s])
		if got != want {
			t.Errorf("screenshot: %s bar is %d pixels, want %d (%d findings)", s, got, want, counts[s.String()])
		}
	}

	// The filter box: one vulnerability's rows only, and the counts follow.
	target := rows[len(rows)/2].Vuln.Name
	n := 0
	for _, r := range rows {
		if r.Vuln.Name == target {
			n++
		}
	}
	b.Type(b.Find("#filter"), target)
	if got, want := b.Text(b.Find("#shown")), strconv.Itoa(n)+" of "+strconv.Itoa(len(rows))+" findings shown"; got != want {
		t.Errorf("filter %s: shown %q, want %q", target, got, want)
	}
	b.Eval(`var f=document.getElementById("filter");f.value="";f.dispatchEvent(new Event("input"));return null`, nil)

	// Sorting by package: the first row is the alphabetically first.
	b.Click(b.Find(`th[data-key="pkg"]`))
	names := make([]string, 0, len(rows))
	for _, r := range rows {
		names = append(names, r.Package.Name)
	}
	sort.Strings(names)
	if got := b.Text(b.Find("#findings tbody tr td:nth-child(2)")); got != names[0] {
		t.Errorf("sorted by package, first row %q, want %q", got, names[0])
	}
	b.Click(b.Find(`th[data-key="pkg"]`))
	if got := b.Text(b.Find("#findings tbody tr td:nth-child(2)")); got != names[len(names)-1] {
		t.Errorf("sorted by package descending, first row %q, want %q", got, names[len(names)-1])
	}
}

var readyRE = regexp.MustCompile(`^1$`)

// waitReady waits for the page's script to have run.
func waitReady(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ready string
		b.Eval(`return document.body ? (document.body.dataset.ready || "") : ""`, &ready)
		if readyRE.MatchString(ready) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the page's script did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outDir keeps screenshots where people can look at them:
// $CLAIR_SCREENSHOTS when set, else the test's temporary folder.
func outDir(t *testing.T) string {
	if d := os.Getenv("CLAIR_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestHTMLShowsCVSS: the CVSS column reads Clair's CVSS enrichment.
func TestHTMLShowsCVSS(t *testing.T) {
	d := gated(t, 0)
	if fixture.cvss == 0 {
		t.Skip("the NVD sample of ../shared/testdata is absent (set CLAIR_SHARED)")
	}
	page := string(render(t, "html", d))
	if !regexp.MustCompile(`data-cvss="6.5">.*CVE-2016-2781</a></td><td>6.5</td>`).MatchString(page) {
		t.Error("CVE-2016-2781's row lacks NVD's 6.5")
	}
}

func TestHTMLEmpty(t *testing.T) {
	page := string(render(t, "html", &report.Document{}))
	if !strings.Contains(page, `<p id="none">No vulnerabilities found.</p>`) || !strings.Contains(page, `<p id="no-suppressed" class="muted">None.</p>`) {
		t.Errorf("empty report page:\n%s", page)
	}
}
