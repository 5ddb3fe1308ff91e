package httpapi

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/service"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

//go:embed ui/index.html.tmpl
var uiFS embed.FS

var uiIndex = template.Must(template.New("index.html.tmpl").Funcs(template.FuncMap{"shortDigest": shortDigest}).ParseFS(uiFS, "ui/index.html.tmpl"))

// shortDigest is a digest cut for a table cell: the algorithm and 16 hex
// digits, unique enough among one server's manifests (the full digest is
// the cell's title and link).
func shortDigest(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 16 {
		return alg + ":" + hex[:16] + "…"
	}
	return d
}

// UI is the web page at /ui/: the indexed manifests with their findings
// counted by severity, each manifest's HTML report, the feeds' state and
// the latest notifications. It sits behind the same auth as the API.
type UI struct {
	// Matcher computes the reports (and caches them, as for the API).
	Matcher MatcherService
	// Manifests lists the stored index reports; nil says the store
	// cannot.
	Manifests ManifestLister
	// Feeds gives the feeds' states.
	Feeds service.FeedStater
	// Errors, when set, holds each feed's last update error (wire
	// FeedErrors.Observe to the updater scheduler's OnResult).
	Errors *FeedErrors
	// Notifications, when set, lists the latest notifications; without it
	// the page says none.
	Notifications NotificationLister
	// Limit bounds the manifests listed (0: DefaultUILimit).
	Limit int
}

// DefaultUILimit is how many manifests the page lists: each one is
// matched to count its findings.
const DefaultUILimit = 50

// ManifestLister lists stored index reports, newest first (the sqlite and
// postgres stores' Manifests).
type ManifestLister interface {
	Manifests(ctx context.Context, limit int) ([]store.ManifestInfo, error)
}

// NotificationLister lists up to limit of the newest notifications.
type NotificationLister interface {
	RecentNotifications(ctx context.Context, limit int) ([]notify.Notification, error)
}

// FeedErrors remembers each feed's last update error, cleared by its next
// success; the store keeps only successful updates.
type FeedErrors struct {
	mu sync.Mutex
	m  map[string]feedErr
}

type feedErr struct {
	err string
	at  time.Time
}

// Observe records the outcome of one feed update.
func (f *FeedErrors) Observe(feed string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]feedErr{}
	}
	if err == nil {
		delete(f.m, feed)
		return
	}
	f.m[feed] = feedErr{err: err.Error(), at: time.Now()}
}

func (f *FeedErrors) get(feed string) (feedErr, bool) {
	if f == nil {
		return feedErr{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[feed]
	return e, ok
}

// UIPath is where the page is served.
const UIPath = "/ui/"

func (u *UI) routes() []route {
	return []route{
		{UIPath + "{$}", map[string]http.HandlerFunc{http.MethodGet: u.index}},
		{UIPath + "manifest/{digest}", map[string]http.HandlerFunc{http.MethodGet: u.manifest}},
	}
}

type uiManifest struct {
	Digest, Short, Indexed, Err string
	Packages, Total             int
	Counts                      []int
}

type uiFeed struct {
	Name, Updated, Checked, Err, ErrAt string
	Advisories                         int
}

type uiPage struct {
	Now                string
	CanList, More      bool
	Severities         []string
	ErrSpan            int
	Manifests          []uiManifest
	Feeds              []uiFeed
	FeedsErr, NotesErr string
	Notifications      []notify.Notification
}

// severityOrder is the page's column order, most severe first.
var severityOrder = []vuln.Severity{vuln.Critical, vuln.High, vuln.Medium, vuln.Low, vuln.Negligible, vuln.Unknown}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func (u *UI) index(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := uiPage{Now: stamp(time.Now()), CanList: u.Manifests != nil, ErrSpan: len(severityOrder) + 2}
	for _, s := range severityOrder {
		p.Severities = append(p.Severities, s.String())
	}
	if u.Manifests != nil {
		limit := u.Limit
		if limit <= 0 {
			limit = DefaultUILimit
		}
		list, err := u.Manifests.Manifests(ctx, limit+1)
		if err != nil {
			uiFail(w, http.StatusInternalServerError, err)
			return
		}
		if len(list) > limit {
			list, p.More = list[:limit], true
		}
		for _, m := range list {
			p.Manifests = append(p.Manifests, u.count(ctx, m))
		}
	}
	if u.Feeds != nil {
		states, err := u.Feeds.FeedStates(ctx)
		if err != nil {
			p.FeedsErr = err.Error()
		}
		seen := map[string]bool{}
		for _, s := range states {
			f := uiFeed{Name: s.Feed, Updated: stamp(s.UpdatedAt), Checked: stamp(s.CheckedAt), Advisories: s.Advisories}
			if e, ok := u.Errors.get(s.Feed); ok {
				f.Err, f.ErrAt = e.err, stamp(e.at)
			}
			seen[s.Feed] = true
			p.Feeds = append(p.Feeds, f)
		}
		// A feed that never succeeded has no state, only its error.
		if u.Errors != nil {
			u.Errors.mu.Lock()
			for name, e := range u.Errors.m {
				if !seen[name] {
					p.Feeds = append(p.Feeds, uiFeed{Name: name, Updated: "never", Checked: "never", Err: e.err, ErrAt: stamp(e.at)})
				}
			}
			u.Errors.mu.Unlock()
			sort.Slice(p.Feeds, func(i, j int) bool { return p.Feeds[i].Name < p.Feeds[j].Name })
		}
	}
	if u.Notifications != nil {
		ns, err := u.Notifications.RecentNotifications(ctx, 100)
		if err != nil {
			p.NotesErr = err.Error()
		}
		p.Notifications = ns
	}
	var buf bytes.Buffer
	if err := uiIndex.Execute(&buf, &p); err != nil {
		uiFail(w, http.StatusInternalServerError, err)
		return
	}
	writeHTML(w, buf.Bytes())
}

// count matches one manifest and counts its findings by severity, as the
// report formats do (one per package and vulnerability).
func (u *UI) count(ctx context.Context, m store.ManifestInfo) uiManifest {
	out := uiManifest{Digest: m.Manifest, Short: shortDigest(m.Manifest), Indexed: stamp(m.UpdatedAt), Counts: make([]int, len(severityOrder))}
	if u.Matcher == nil {
		out.Err = "no matcher"
		return out
	}
	e, err := u.Matcher.ReportJSON(ctx, m.Manifest)
	if err != nil {
		out.Err = err.Error()
		return out
	}
	var vr struct {
		Packages        map[string]json.RawMessage `json:"packages"`
		Vulnerabilities map[string]*struct {
			Severity vuln.Severity `json:"normalized_severity"`
		} `json:"vulnerabilities"`
		PackageVulnerabilities map[string][]string `json:"package_vulnerabilities"`
	}
	if err := json.Unmarshal(e.JSON, &vr); err != nil {
		out.Err = err.Error()
		return out
	}
	out.Packages = len(vr.Packages)
	for pid, vids := range vr.PackageVulnerabilities {
		if _, ok := vr.Packages[pid]; !ok {
			continue
		}
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			if v == nil {
				continue
			}
			out.Counts[int(vuln.Critical-v.Severity)]++
			out.Total++
		}
	}
	return out
}

// manifest serves the manifest's HTML report.
func (u *UI) manifest(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	if !service.ValidDigest(d) {
		uiFail(w, http.StatusBadRequest, fmt.Errorf("%q is not a manifest digest", d))
		return
	}
	if u.Matcher == nil {
		uiFail(w, http.StatusNotFound, fmt.Errorf("no matcher"))
		return
	}
	e, err := u.Matcher.ReportJSON(r.Context(), d)
	if err != nil {
		uiFail(w, statusOf(err), err)
		return
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal(e.JSON, &vr); err != nil {
		uiFail(w, http.StatusInternalServerError, err)
		return
	}
	var buf bytes.Buffer
	if err := report.HTML(&buf, &report.Document{Report: &vr, Image: d}); err != nil {
		uiFail(w, http.StatusInternalServerError, err)
		return
	}
	writeHTML(w, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", htmlCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// uiFail answers a page request with a plain-text error.
func uiFail(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s: %v\n", status, http.StatusText(status), err)
}
