package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/service"
	"github.com/openclair/clair/vuln"
)

// Classic serves the layer API of Clair v1/v2 (the seed documents' API):
// layers are posted one at a time, each naming its parent, and a layer's
// features are those of the chain ending with it.
//
// A posted layer is read once and what the scanners found is cached under
// the key "v1layer:<Name>" (the names are the client's, usually the layer
// digest). The layer's chain is kept as an index report of the pseudo
// manifest "v1layer:<Name>" whose Layers are the chain's keys, so a child
// layer is indexed from its parents' cached scans without fetching them
// again, and GET joins the chain's report with today's data.
//
// The handlers only decode, call the services and encode: chains, dedup,
// locks and limits are service.Indexer's (IndexClassic).
type Classic struct {
	Indexer ClassicService
	Matcher ClassicMatcher
	// Namespaces lists advisories by namespace; nil leaves the
	// /namespaces routes answering 404.
	Namespaces NamespaceStore
	// Database serves GET /database and POST /database/update; nil
	// answers them 404.
	Database DatabaseService

	srv *Server // for logging failures
}

// ClassicMatcher matches a classic layer's report (service.Matcher).
type ClassicMatcher interface {
	MatchReport(ctx context.Context, ir *vuln.IndexReport) (*vuln.VulnerabilityReport, error)
}

// ClassicService is what the classic layer routes call (service.Indexer).
type ClassicService interface {
	IndexClassic(ctx context.Context, l *service.ClassicLayer) (*vuln.IndexReport, error)
	ClassicReport(ctx context.Context, name string) (*vuln.IndexReport, error)
	DeleteClassic(ctx context.Context, name string) error
}

// DatabaseService is what the database routes call (service.Database).
type DatabaseService interface {
	Status(ctx context.Context) ([]service.FeedStatus, error)
	Update(ctx context.Context) ([]service.UpdateResult, error)
}

// NamespaceStore lists what the feeds hold, for /namespaces.
type NamespaceStore interface {
	// Namespaces returns every namespace with advisories and its version format.
	Namespaces(ctx context.Context) (map[string]string, error)
	// NamespaceVulnerabilities returns up to limit distinct vulnerability
	// names of the namespace after the name after, sorted.
	NamespaceVulnerabilities(ctx context.Context, namespace, after string, limit int) ([]string, error)
	// Vulnerability returns the advisories of one vulnerability in the
	// namespace, with their details.
	Vulnerability(ctx context.Context, namespace, name string) ([]*vuln.Advisory, error)
}

// indexedByVersion is what Clair v2 reported for its own engine version;
// clients only check that it is set.
const indexedByVersion = 3

const v1Prefix = service.ClassicPrefix

// v1 wire types.
type (
	v1Layer struct {
		Name             string            `json:"Name,omitempty"`
		NamespaceName    string            `json:"NamespaceName,omitempty"`
		Path             string            `json:"Path,omitempty"`
		Headers          map[string]string `json:"Headers,omitempty"`
		ParentName       string            `json:"ParentName,omitempty"`
		Format           string            `json:"Format,omitempty"`
		IndexedByVersion int               `json:"IndexedByVersion,omitempty"`
		Features         []v1Feature       `json:"Features,omitempty"`
	}
	v1Feature struct {
		Name            string            `json:"Name,omitempty"`
		NamespaceName   string            `json:"NamespaceName,omitempty"`
		VersionFormat   string            `json:"VersionFormat,omitempty"`
		Version         string            `json:"Version,omitempty"`
		Vulnerabilities []v1Vulnerability `json:"Vulnerabilities,omitempty"`
		AddedBy         string            `json:"AddedBy,omitempty"`
	}
	v1Vulnerability struct {
		Name          string         `json:"Name,omitempty"`
		NamespaceName string         `json:"NamespaceName,omitempty"`
		Description   string         `json:"Description,omitempty"`
		Link          string         `json:"Link,omitempty"`
		Severity      string         `json:"Severity,omitempty"`
		Metadata      map[string]any `json:"Metadata,omitempty"`
		FixedBy       string         `json:"FixedBy,omitempty"`
		FixedIn       []v1Feature    `json:"FixedIn,omitempty"`
	}
	v1Namespace struct {
		Name          string `json:"Name"`
		VersionFormat string `json:"VersionFormat,omitempty"`
	}
	v1Error struct {
		Message   string `json:"Message"`
		RequestID string `json:"RequestID,omitempty"`
	}
)

// v1Fail writes the classic error shape {"Error":{"Message":...}}.
func v1Fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]v1Error{"Error": {Message: msg, RequestID: w.Header().Get(requestIDHeader)}})
}

// fail answers a classic request with err's status and public message,
// in the classic shape.
func (c *Classic) fail(w http.ResponseWriter, r *http.Request, err error) {
	st, msg := c.srv.failure(w, r, err)
	v1Fail(w, st, msg)
}

func (c *Classic) routes(prefix string) []route {
	return []route{
		{prefix + "/layers", map[string]http.HandlerFunc{http.MethodPost: c.postLayer}},
		{prefix + "/layers/{name}", map[string]http.HandlerFunc{http.MethodGet: c.getLayer, http.MethodDelete: c.deleteLayer}},
		{prefix + "/namespaces", map[string]http.HandlerFunc{http.MethodGet: c.getNamespaces}},
		{prefix + "/namespaces/{ns}/vulnerabilities", map[string]http.HandlerFunc{http.MethodGet: c.getNamespaceVulns}},
		{prefix + "/namespaces/{ns}/vulnerabilities/{vuln}", map[string]http.HandlerFunc{http.MethodGet: c.getVuln}},
		// The seed documents' paths.
		{prefix + "/namespaces/{ns}", map[string]http.HandlerFunc{http.MethodGet: c.getNamespace}},
		{prefix + "/vulnerabilities/{ns}/{vuln}", map[string]http.HandlerFunc{http.MethodGet: c.getVuln}},
		{prefix + "/layers/{name}/vulnerabilities", map[string]http.HandlerFunc{http.MethodGet: c.getLayerVulns}},
		{prefix + "/database", map[string]http.HandlerFunc{http.MethodGet: c.getDatabase}},
		{prefix + "/database/update", map[string]http.HandlerFunc{http.MethodPost: c.postDatabaseUpdate}},
	}
}

// getLayerVulns is GET layers/{name}?vulnerabilities by another path.
func (c *Classic) getLayerVulns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	q.Set("vulnerabilities", "")
	r.URL.RawQuery = q.Encode()
	c.getLayer(w, r)
}

func (c *Classic) getNamespace(w http.ResponseWriter, r *http.Request) {
	if c.Namespaces == nil {
		v1Fail(w, http.StatusNotFound, "namespaces are not served by this store")
		return
	}
	ns := r.PathValue("ns")
	nss, err := c.Namespaces.Namespaces(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f, ok := nss[ns]
	if !ok || vuln.Internal(ns) {
		v1Fail(w, http.StatusNotFound, fmt.Sprintf("namespace %q not found", ns))
		return
	}
	writeJSON(w, http.StatusOK, map[string]v1Namespace{"Namespace": {Name: ns, VersionFormat: f}})
}

type v1Feed struct {
	Name        string     `json:"Name"`
	Fingerprint string     `json:"Fingerprint,omitempty"`
	UpdatedAt   *time.Time `json:"UpdatedAt,omitempty"`
	CheckedAt   *time.Time `json:"CheckedAt,omitempty"`
	Advisories  int        `json:"Advisories"`
	Ready       bool       `json:"Ready"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (c *Classic) getDatabase(w http.ResponseWriter, r *http.Request) {
	if c.Database == nil {
		v1Fail(w, http.StatusNotFound, "the database is not served by this instance")
		return
	}
	st, err := c.Database.Status(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := make([]v1Feed, 0, len(st))
	for _, f := range st {
		out = append(out, v1Feed{Name: f.Name, Fingerprint: f.Fingerprint, UpdatedAt: timePtr(f.UpdatedAt),
			CheckedAt: timePtr(f.CheckedAt), Advisories: f.Advisories, Ready: !f.UpdatedAt.IsZero()})
	}
	writeJSON(w, http.StatusOK, map[string]map[string][]v1Feed{"Database": {"Feeds": out}})
}

type v1Update struct {
	Feed       string `json:"Feed"`
	Changed    bool   `json:"Changed"`
	Advisories int    `json:"Advisories"`
	Failed     bool   `json:"Failed,omitempty"`
}

// postDatabaseUpdate runs the updaters now and answers when they are done.
func (c *Classic) postDatabaseUpdate(w http.ResponseWriter, r *http.Request) {
	if c.Database == nil {
		v1Fail(w, http.StatusNotFound, "the database is not served by this instance")
		return
	}
	longWork(w)
	res, err := c.Database.Update(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := make([]v1Update, 0, len(res))
	for _, u := range res {
		out = append(out, v1Update{Feed: u.Feed, Changed: u.Changed, Advisories: u.Advisories, Failed: u.Failed})
	}
	writeJSON(w, http.StatusOK, map[string][]v1Update{"Updates": out})
}

func (c *Classic) postLayer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Layer *service.ClassicLayer
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		c.fail(w, r, badBody("could not decode layer", err))
		return
	}
	longWork(w)
	rep, err := c.Indexer.IndexClassic(r.Context(), body.Layer)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	l := body.Layer
	writeJSON(w, http.StatusCreated, map[string]v1Layer{"Layer": {
		Name: l.Name, Path: l.Path, ParentName: l.ParentName, Format: l.Format,
		IndexedByVersion: indexedByVersion, NamespaceName: namespaceOf(rep),
	}})
}

// namespaceOf is the layer's namespace: its distribution's.
func namespaceOf(rep *vuln.IndexReport) string {
	ids := make([]string, 0, len(rep.Distributions))
	for id := range rep.Distributions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if ns := vuln.Namespace(rep.Distributions[id]); ns != "" {
			return ns
		}
	}
	return ""
}

func (c *Classic) getLayer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ctx := r.Context()
	rep, err := c.Indexer.ClassicReport(ctx, name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	_, withFeatures := q["features"]
	_, withVulns := q["vulnerabilities"]
	out := v1Layer{Name: name, NamespaceName: namespaceOf(rep), IndexedByVersion: indexedByVersion}
	if n := len(rep.Layers); n > 1 {
		out.ParentName = strings.TrimPrefix(rep.Layers[n-2], v1Prefix)
	}
	if withFeatures || withVulns {
		var vr *vuln.VulnerabilityReport
		if withVulns {
			if vr, err = c.Matcher.MatchReport(ctx, rep); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		out.Features = features(rep, vr)
	}
	writeJSON(w, http.StatusOK, map[string]v1Layer{"Layer": out})
}

// features renders the report's packages as v1 features, most severe
// vulnerability first within each.
func features(rep *vuln.IndexReport, vr *vuln.VulnerabilityReport) []v1Feature {
	ids := make([]string, 0, len(rep.Packages))
	for id := range rep.Packages {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := rep.Packages[ids[i]], rep.Packages[ids[j]]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return ids[i] < ids[j]
	})
	out := make([]v1Feature, 0, len(ids))
	for _, id := range ids {
		p := rep.Packages[id]
		f := v1Feature{Name: p.Name, Version: p.Version, VersionFormat: p.Ecosystem}
		if envs := rep.Environments[id]; len(envs) > 0 {
			f.AddedBy = strings.TrimPrefix(envs[0].IntroducedIn, v1Prefix)
			if d := rep.Distributions[envs[0].DistributionID]; d != nil {
				f.NamespaceName = vuln.Namespace(d)
			}
		}
		if f.NamespaceName == "" {
			f.NamespaceName = p.Ecosystem
		}
		if vr != nil {
			for _, vid := range vr.PackageVulnerabilities[id] {
				v := vr.Vulnerabilities[vid]
				if v == nil {
					continue
				}
				f.Vulnerabilities = append(f.Vulnerabilities, v1Vulnerability{
					Name: v.Name, NamespaceName: f.NamespaceName, Description: v.Description,
					Link: firstLink(v.Links), Severity: v.NormalizedSeverity.String(), FixedBy: v.FixedInVersion,
				})
			}
			sort.SliceStable(f.Vulnerabilities, func(i, j int) bool {
				a, _ := vuln.ParseSeverity(f.Vulnerabilities[i].Severity)
				b, _ := vuln.ParseSeverity(f.Vulnerabilities[j].Severity)
				if a != b {
					return a > b
				}
				return f.Vulnerabilities[i].Name < f.Vulnerabilities[j].Name
			})
		}
		out = append(out, f)
	}
	return out
}

func firstLink(links string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(links), " ")
	return l
}

func (c *Classic) deleteLayer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ctx := r.Context()
	if err := c.Indexer.DeleteClassic(ctx, name); err != nil {
		c.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (c *Classic) getNamespaces(w http.ResponseWriter, r *http.Request) {
	if c.Namespaces == nil {
		v1Fail(w, http.StatusNotFound, "namespaces are not served by this store")
		return
	}
	nss, err := c.Namespaces.Namespaces(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := make([]v1Namespace, 0, len(nss))
	for n, f := range nss {
		if !vuln.Internal(n) {
			out = append(out, v1Namespace{Name: n, VersionFormat: f})
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Name, out[j].Name) })
	writeJSON(w, http.StatusOK, map[string][]v1Namespace{"Namespaces": out})
}

// Pages are opaque tokens: the last name of the previous page, encoded so
// that clients do not build them.
func encodePage(after string) string { return hex.EncodeToString([]byte(after)) }

func decodePage(p string) (string, error) {
	b, err := hex.DecodeString(p)
	return string(b), err
}

func (c *Classic) getNamespaceVulns(w http.ResponseWriter, r *http.Request) {
	if c.Namespaces == nil {
		v1Fail(w, http.StatusNotFound, "namespaces are not served by this store")
		return
	}
	ns := r.PathValue("ns")
	q := r.URL.Query()
	limit := 50
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			v1Fail(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a positive number", s))
			return
		}
		limit = min(n, 1000)
	}
	after := ""
	if p := q.Get("page"); p != "" {
		a, err := decodePage(p)
		if err != nil {
			v1Fail(w, http.StatusBadRequest, fmt.Sprintf("page: %q is not a page token", p))
			return
		}
		after = a
	}
	ctx := r.Context()
	nss, err := c.Namespaces.Namespaces(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if _, ok := nss[ns]; !ok || vuln.Internal(ns) {
		v1Fail(w, http.StatusNotFound, fmt.Sprintf("namespace %q not found", ns))
		return
	}
	names, err := c.Namespaces.NamespaceVulnerabilities(ctx, ns, after, limit+1)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	resp := struct {
		Vulnerabilities []v1Vulnerability `json:"Vulnerabilities"`
		NextPage        string            `json:"NextPage,omitempty"`
	}{Vulnerabilities: []v1Vulnerability{}}
	if len(names) > limit {
		names = names[:limit]
		resp.NextPage = encodePage(names[limit-1])
	}
	for _, n := range names {
		resp.Vulnerabilities = append(resp.Vulnerabilities, v1Vulnerability{Name: n, NamespaceName: ns})
	}
	writeJSON(w, http.StatusOK, resp)
}

func (c *Classic) getVuln(w http.ResponseWriter, r *http.Request) {
	if c.Namespaces == nil {
		v1Fail(w, http.StatusNotFound, "namespaces are not served by this store")
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("vuln")
	if vuln.Internal(ns) {
		v1Fail(w, http.StatusNotFound, fmt.Sprintf("namespace %q not found", ns))
		return
	}
	advs, err := c.Namespaces.Vulnerability(r.Context(), ns, name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(advs) == 0 {
		v1Fail(w, http.StatusNotFound, fmt.Sprintf("vulnerability %q not found in %q", name, ns))
		return
	}
	a := advs[0]
	out := v1Vulnerability{Name: name, NamespaceName: ns, Description: a.Description, Severity: a.NormalizedSeverity.String()}
	if len(a.Links) > 0 {
		out.Link = a.Links[0]
	}
	for _, a := range advs {
		if a.NormalizedSeverity > vuln.Severity(0) {
			if s, _ := vuln.ParseSeverity(out.Severity); a.NormalizedSeverity > s {
				out.Severity = a.NormalizedSeverity.String()
			}
		}
		if a.State == vuln.StateNotAffected {
			continue
		}
		ver := a.FixedIn
		if a.State != vuln.StateAffected || ver == "" {
			ver = "" // unfixed: Clair v2 left the version out (it meant "every version")
		}
		out.FixedIn = append(out.FixedIn, v1Feature{Name: a.Package, NamespaceName: ns, VersionFormat: a.VersionFormat, Version: ver})
	}
	writeJSON(w, http.StatusOK, map[string]v1Vulnerability{"Vulnerability": out})
}
