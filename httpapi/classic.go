package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
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
type Classic struct {
	Store   ClassicStore
	Indexer *index.Indexer
	Matcher *match.Matcher
	// Open streams a layer blob from its Path with its Headers (through
	// the guarded layer fetcher).
	Open func(ctx context.Context, uri string, headers map[string][]string) (io.ReadCloser, error)
	// State is the indexer state, kept with each layer's report.
	State func() string
	// Namespaces lists advisories by namespace; nil leaves the
	// /namespaces routes answering 404.
	Namespaces NamespaceStore
}

// ClassicStore is what the classic API keeps.
type ClassicStore interface {
	PutIndexReport(ctx context.Context, r *vuln.IndexReport) error
	IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error)
	DeleteIndexReports(ctx context.Context, manifests []string) (deleted []string, err error)
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

const v1Prefix = "v1layer:"

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
		Message string `json:"Message"`
	}
)

// v1Fail writes the classic error shape {"Error":{"Message":...}}.
func v1Fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]v1Error{"Error": {Message: msg}})
}

func (c *Classic) routes(prefix string) []route {
	return []route{
		{prefix + "/layers", map[string]http.HandlerFunc{http.MethodPost: c.postLayer}},
		{prefix + "/layers/{name}", map[string]http.HandlerFunc{http.MethodGet: c.getLayer, http.MethodDelete: c.deleteLayer}},
		{prefix + "/namespaces", map[string]http.HandlerFunc{http.MethodGet: c.getNamespaces}},
		{prefix + "/namespaces/{ns}/vulnerabilities", map[string]http.HandlerFunc{http.MethodGet: c.getNamespaceVulns}},
		{prefix + "/namespaces/{ns}/vulnerabilities/{vuln}", map[string]http.HandlerFunc{http.MethodGet: c.getVuln}},
	}
}

func (c *Classic) postLayer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Layer *struct {
			Name       string
			Path       string
			Headers    map[string]string
			ParentName string
			Format     string
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			v1Fail(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		v1Fail(w, http.StatusBadRequest, "could not decode layer: "+err.Error())
		return
	}
	l := body.Layer
	switch {
	case l == nil:
		v1Fail(w, http.StatusBadRequest, "Layer: missing")
		return
	case l.Name == "":
		v1Fail(w, http.StatusBadRequest, "Layer.Name: empty")
		return
	case l.Path == "":
		v1Fail(w, http.StatusBadRequest, "Layer.Path: empty")
		return
	case l.Name == l.ParentName:
		v1Fail(w, http.StatusBadRequest, "Layer.ParentName: a layer cannot be its own parent")
		return
	}
	switch strings.ToLower(l.Format) {
	case "", "docker", "oci":
	default:
		v1Fail(w, http.StatusBadRequest, fmt.Sprintf("Layer.Format: %q is not Docker or OCI", l.Format))
		return
	}
	ctx := r.Context()
	var chain []string
	if l.ParentName != "" {
		parent, err := c.Store.IndexReport(ctx, v1Prefix+l.ParentName)
		if errors.Is(err, store.ErrNotFound) {
			v1Fail(w, http.StatusBadRequest, fmt.Sprintf("Layer.ParentName: layer %q is unknown: post it first", l.ParentName))
			return
		} else if err != nil {
			v1Fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		chain = append(chain, parent.Layers...)
	}
	key := v1Prefix + l.Name
	chain = append(chain, key)

	headers := map[string][]string{}
	for k, v := range l.Headers {
		headers[k] = []string{v}
	}
	img := &image.Image{Ref: "v1:" + l.Name, ManifestDigest: key}
	for _, k := range chain {
		if k == key {
			uri := l.Path
			img.Layers = append(img.Layers, image.NewLayer(k, "", 0, func(ctx context.Context) (io.ReadCloser, error) {
				return c.Open(ctx, uri, headers)
			}))
			continue
		}
		// Parents were scanned when they were posted: their scans are in
		// the layer cache, and open is never called unless the scanners
		// changed since.
		name := strings.TrimPrefix(k, v1Prefix)
		img.Layers = append(img.Layers, image.NewLayer(k, "", 0, func(context.Context) (io.ReadCloser, error) {
			return nil, fmt.Errorf("layer %q was scanned by other scanners: post it again", name)
		}))
	}
	rep, err := c.Indexer.Index(ctx, img)
	if err != nil {
		var le *image.LayerError
		st := http.StatusInternalServerError
		if errors.As(err, &le) {
			st = http.StatusUnprocessableEntity // Clair v2's answer to a layer it could not read
		}
		v1Fail(w, st, err.Error())
		return
	}
	rep.ManifestHash = key
	rep.Layers = chain
	if c.State != nil {
		rep.IndexState = c.State()
	}
	if err := c.Store.PutIndexReport(ctx, rep); err != nil {
		v1Fail(w, http.StatusInternalServerError, err.Error())
		return
	}
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
	rep, err := c.Store.IndexReport(ctx, v1Prefix+name)
	if errors.Is(err, store.ErrNotFound) {
		v1Fail(w, http.StatusNotFound, fmt.Sprintf("layer %q not found", name))
		return
	} else if err != nil {
		v1Fail(w, http.StatusInternalServerError, err.Error())
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
			if vr, err = c.Matcher.Match(ctx, rep); err != nil {
				v1Fail(w, http.StatusInternalServerError, err.Error())
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
	deleted, err := c.Store.DeleteIndexReports(ctx, []string{v1Prefix + name})
	if err != nil {
		v1Fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	if len(deleted) == 0 {
		v1Fail(w, http.StatusNotFound, fmt.Sprintf("layer %q not found", name))
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
		v1Fail(w, http.StatusInternalServerError, err.Error())
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
		v1Fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	if _, ok := nss[ns]; !ok || vuln.Internal(ns) {
		v1Fail(w, http.StatusNotFound, fmt.Sprintf("namespace %q not found", ns))
		return
	}
	names, err := c.Namespaces.NamespaceVulnerabilities(ctx, ns, after, limit+1)
	if err != nil {
		v1Fail(w, http.StatusInternalServerError, err.Error())
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
		v1Fail(w, http.StatusInternalServerError, err.Error())
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
