package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

const (
	vulnReportPath      = "/matcher/api/v1/vulnerability_report"
	updateOperationPath = "/matcher/api/v1/internal/update_operation"
	updateDiffPath      = "/matcher/api/v1/internal/update_diff"
)

func (s *Server) matcherRoutes() []route {
	rs := []route{
		{vulnReportPath + "/{digest}", map[string]http.HandlerFunc{http.MethodGet: s.getVulnReport}},
	}
	if s.Updates != nil {
		rs = append(rs,
			route{updateOperationPath, map[string]http.HandlerFunc{http.MethodGet: s.getUpdateOperations}},
			route{updateDiffPath, map[string]http.HandlerFunc{http.MethodGet: s.getUpdateDiff}},
		)
	}
	return rs
}

// getVulnReport computes the report from today's data on every request:
// nothing is cached but the compiled advisories, which follow the feeds.
func (s *Server) getVulnReport(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	if s.serveReportFormat(w, r, d) {
		return
	}
	e, err := s.reportJSON(w, r, d) // stream.go
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if e == nil {
		return // streamed
	}
	b := e.JSON
	w.Header().Set("Vary", "Accept, Accept-Encoding") // Accept picks the format (format.go)
	if acceptsGzip(r) {
		b = e.Gzip()
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Type", "application/json")
	// Clair's hint (matcher.cache_age): reports change only with the feeds.
	w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(int(s.CacheAge.Seconds())))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// UpdateStore is what the update endpoints read.
type UpdateStore interface {
	UpdateOperations(ctx context.Context, feeds ...string) (map[string][]store.UpdateOperation, error)
	UpdateDiff(ctx context.Context, prev, cur string) (*store.UpdateDiff, error)
}

// updateOperation is Clair v4's UpdateOperation on the wire.
type updateOperation struct {
	Ref         string    `json:"ref"`
	Updater     string    `json:"updater"`
	Fingerprint string    `json:"fingerprint"`
	Date        time.Time `json:"date"`
	Kind        string    `json:"kind"`
}

func wireOp(o store.UpdateOperation) updateOperation {
	return updateOperation{Ref: o.ID, Updater: o.Feed, Fingerprint: o.Fingerprint, Date: o.Date, Kind: "vulnerability"}
}

// getUpdateOperations answers Clair's ?latest=true (the newest of each
// feed only) and ?kind= (only "vulnerability" operations exist here; the
// enrichment kind has none). The ETag is the newest operation's id.
func (s *Server) getUpdateOperations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind != "" && kind != "vulnerability" && kind != "enrichment" {
		apiFail(w, http.StatusBadRequest, fmt.Sprintf("kind: %q is not vulnerability or enrichment", kind))
		return
	}
	latest, _ := strconv.ParseBool(q.Get("latest"))
	ops, err := s.Updates.UpdateOperations(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string][]updateOperation{}
	var newest store.UpdateOperation
	if kind != "enrichment" {
		for feed, list := range ops {
			if latest && len(list) > 1 {
				list = list[:1]
			}
			for _, o := range list {
				out[feed] = append(out[feed], wireOp(o))
			}
			if len(list) > 0 && list[0].Date.After(newest.Date) {
				newest = list[0]
			}
		}
	}
	if newest.ID != "" {
		tag := `"` + newest.ID + `"`
		w.Header().Set("ETag", tag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, tag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getUpdateDiff(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	prev, cur := q.Get("prev"), q.Get("cur")
	if cur == "" {
		apiFail(w, http.StatusBadRequest, "cur: missing (an update operation ref)")
		return
	}
	d, err := s.Updates.UpdateDiff(r.Context(), prev, cur)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := struct {
		Prev    *updateOperation      `json:"prev"`
		Cur     updateOperation       `json:"cur"`
		Added   []*vuln.Vulnerability `json:"added"`
		Removed []*vuln.Vulnerability `json:"removed"`
	}{Cur: wireOp(d.Cur), Added: wireVulns(d.Added), Removed: wireVulns(d.Removed)}
	if d.Prev.ID != "" {
		p := wireOp(d.Prev)
		resp.Prev = &p
	}
	writeJSON(w, http.StatusOK, resp)
}

// wireVulns renders advisories as Clair's vulnerabilities, as
// update_diff shows them: the package is the feed's (source) package.
func wireVulns(as []*vuln.Advisory) []*vuln.Vulnerability {
	out := make([]*vuln.Vulnerability, 0, len(as))
	for _, a := range as {
		out = append(out, &vuln.Vulnerability{
			ID:                 a.Feed + "/" + a.Namespace + "/" + a.Package + "/" + a.Name,
			Updater:            a.Feed,
			Name:               a.Name,
			Description:        a.Description,
			Issued:             a.Issued,
			Links:              strings.Join(a.Links, " "),
			Severity:           a.Severity,
			NormalizedSeverity: a.NormalizedSeverity,
			Package:            &vuln.Package{Name: a.Package},
			FixedInVersion:     a.FixedIn,
			State:              string(a.State),
			Aliases:            a.Aliases,
		})
	}
	return out
}

// acceptsGzip is a plain reading of Accept-Encoding: "gzip" listed without
// q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}
