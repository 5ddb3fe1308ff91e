package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/openclair/clair/vuln"
)

const (
	indexReportPath = "/indexer/api/v1/index_report"
	indexStatePath  = "/indexer/api/v1/index_state"
)

func (s *Server) indexerRoutes() []route {
	return []route{
		{indexReportPath, map[string]http.HandlerFunc{
			http.MethodPost:   s.postIndexReport,
			http.MethodDelete: s.deleteIndexReports,
		}},
		{indexReportPath + "/{digest}", map[string]http.HandlerFunc{
			http.MethodGet:    s.getIndexReport,
			http.MethodDelete: s.deleteIndexReport,
		}},
		{indexStatePath, map[string]http.HandlerFunc{http.MethodGet: s.getIndexState}},
	}
}

// etag quotes the index state as an HTTP entity tag.
func etag(state string) string { return `"` + state + `"` }

// matchesETag reports whether an If-None-Match header names tag.
func matchesETag(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

func (s *Server) postIndexReport(w http.ResponseWriter, r *http.Request) {
	tag := etag(s.Indexer.State())
	var m vuln.Manifest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&m); err != nil {
		s.fail(w, r, badBody("manifest", err))
		return
	}
	longWork(w)
	rep, created, err := s.Indexer.Index(r.Context(), &m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Clair's contract: a client holding a report of the current state
	// says so, and is told there is nothing newer. Index answered from
	// the stored report (read once) when it did not index.
	if inm := r.Header.Get("If-None-Match"); inm != "" && !created && matchesETag(inm, tag) {
		w.Header().Set("ETag", tag)
		apiFail(w, http.StatusPreconditionFailed, "index report of "+m.Hash+" is current")
		return
	}
	w.Header().Set("ETag", tag)
	w.Header().Set("Location", indexReportPath+"/"+m.Hash)
	// Clair's links to the report and to its vulnerabilities.
	w.Header().Add("Link", `<`+indexReportPath+"/"+m.Hash+`>; rel="https://projectquay.io/clair/v1/index_report"`)
	w.Header().Add("Link", `<`+vulnReportPath+"/"+m.Hash+`>; rel="https://projectquay.io/clair/v1/vulnerability_report"`)
	// Clair answers 201 to every successful POST, a repeated one too:
	// its clients test for 201.
	writeJSONAs(w, http.StatusCreated, mediaIndexReport, rep)
}

// longWork lifts the server's read and write deadlines once the body is
// read, for a handler whose work may outlast them (indexing a manifest is
// bounded by the manifest's own deadline): an expired read deadline would
// cancel the request, an expired write deadline lose the answer. The
// answer then gets writeAfterWork to be written, so that a client that
// never reads still cannot hold the connection.
func longWork(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set(longWorkHeader, "1")
}

// longWorkHeader marks (inside the process) a response whose deadline
// writeJSON sets afresh; it is removed before the headers are sent.
const longWorkHeader = "X-Clair-Long-Work"

// writeAfterWork is how long a long handler's answer has to be written.
const writeAfterWork = 2 * time.Minute

func (s *Server) getIndexReport(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	ctype, ok := negotiate(r, mediaIndexReport)
	if !ok {
		apiFail(w, http.StatusUnsupportedMediaType, "unable to negotiate a media type: "+mediaIndexReport+" or application/json")
		return
	}
	tag := etag(s.Indexer.State())
	rep, err := s.Indexer.Report(r.Context(), d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rep.IndexState == s.Indexer.State() {
		if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, tag) {
			w.Header().Set("ETag", tag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", tag)
	}
	writeJSONAs(w, http.StatusOK, ctype, rep)
}

func (s *Server) deleteIndexReport(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	if _, err := s.Indexer.Delete(r.Context(), []string{d}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteIndexReports(w http.ResponseWriter, r *http.Request) {
	var ds []string
	if err := json.NewDecoder(r.Body).Decode(&ds); err != nil {
		s.fail(w, r, badBody("body: want a JSON array of manifest digests", err))
		return
	}
	deleted, err := s.Indexer.Delete(r.Context(), ds)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if deleted == nil {
		deleted = []string{}
	}
	writeJSON(w, http.StatusOK, deleted)
}

func (s *Server) getIndexState(w http.ResponseWriter, r *http.Request) {
	ctype, ok := negotiate(r, mediaIndexState)
	if !ok {
		apiFail(w, http.StatusUnsupportedMediaType, "unable to negotiate a media type: "+mediaIndexState+" or application/json")
		return
	}
	st := s.Indexer.State()
	tag := etag(st)
	w.Header().Set("ETag", tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSONAs(w, http.StatusOK, ctype, map[string]string{"state": st})
}

// Clair's media types.
const (
	mediaIndexReport = "application/vnd.clair.indexreport.v1+json"
	mediaIndexState  = "application/vnd.clair.indexstate.v1+json"
)

// negotiate picks Clair's media type or application/json from Accept, as
// Clair does: no Accept, or one allowing anything, gets Clair's type.
func negotiate(r *http.Request, clair string) (string, bool) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return clair, true
	}
	json := false
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.ReplaceAll(strings.TrimSpace(params), " ", "") == "q=0" {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case clair, "*/*", "application/*":
				return clair, true
			case "application/json":
				json = true
			}
		}
	}
	if json {
		return "application/json", true
	}
	return "", false
}
