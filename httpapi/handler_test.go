package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/service"
	"github.com/openclair/clair/vuln"
)

const (
	dg1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	dg2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// fakeIndexer answers from a map, or fails with err.
type fakeIndexer struct {
	reports map[string]*vuln.IndexReport
	err     error
}

func (f *fakeIndexer) State() string { return "state1" }

func (f *fakeIndexer) Index(ctx context.Context, m *vuln.Manifest) (*vuln.IndexReport, bool, error) {
	if f.err != nil {
		return nil, false, f.err
	}
	if r, ok := f.reports[m.Hash]; ok && r.IndexState == f.State() {
		return r, false, nil
	}
	r := &vuln.IndexReport{ManifestHash: m.Hash, IndexState: "state1", State: vuln.IndexFinished}
	f.reports[m.Hash] = r
	return r, true, nil
}

func (f *fakeIndexer) Report(ctx context.Context, d string) (*vuln.IndexReport, error) {
	if f.err != nil {
		return nil, f.err
	}
	if r, ok := f.reports[d]; ok {
		return r, nil
	}
	return nil, errkind.New(errkind.NotFound, "index report of "+d+" not found")
}

func (f *fakeIndexer) Delete(ctx context.Context, ds []string) ([]string, error) { return ds, f.err }

type fakeMatcher struct{ err error }

func (f *fakeMatcher) ReportJSON(ctx context.Context, d string) (*service.Encoded, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &service.Encoded{JSON: []byte(`{"manifest_hash":"` + d + `"}` + "\n")}, nil
}

// errSecret is an internal error whose text must never reach a client.
var errSecret = errors.New("failed to connect to `user=postgres database=clair`: 127.0.0.1:5432")

func TestStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		err        error
		status     int
		retryAfter bool
	}{
		{errkind.New(errkind.Invalid, "hash: bad"), 400, false},
		{errkind.New(errkind.NotFound, "not found"), 404, false},
		{errkind.New(errkind.Conflict, "conflict"), 409, false},
		{errkind.New(errkind.TooLarge, "too large"), 413, false},
		{errkind.Wrap(errkind.BadContent, "layer x: entry \"../etc\": path escapes the image root", errSecret), 422, false},
		{errkind.New(errkind.Busy, "busy"), 429, true},
		{errkind.Wrap(errkind.Upstream, "layer x: the layer source answered 404 Not Found", errSecret), 502, false},
		{errkind.Wrap(errkind.Unavailable, "", errSecret), 503, true},
		{errkind.Wrap(errkind.Timeout, "timed out", errSecret), 504, false},
		{errSecret, 500, false},
		{fmt.Errorf("store: %w", &retryable{}), 503, true},
	} {
		var logs bytes.Buffer
		s := &Server{Indexer: &fakeIndexer{reports: map[string]*vuln.IndexReport{}, err: tc.err},
			Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		h := s.Handler()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", indexReportPath+"/"+dg1, nil))
		var body apiError
		json.Unmarshal(rec.Body.Bytes(), &body)
		id := rec.Header().Get("X-Request-Id")
		if rec.Code != tc.status || body.RequestID == "" || body.RequestID != id {
			t.Errorf("%v: %d %s, want %d with the request id", tc.err, rec.Code, rec.Body, tc.status)
		}
		if got := rec.Header().Get("Retry-After") != ""; got != tc.retryAfter {
			t.Errorf("%v: Retry-After %q", tc.err, rec.Header().Get("Retry-After"))
		}
		if strings.Contains(rec.Body.String(), "postgres") || strings.Contains(rec.Body.String(), "127.0.0.1") {
			t.Errorf("%v: the body quotes internals: %s", tc.err, rec.Body)
		}
		if !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "127.0.0.1:5432") && errors.Is(tc.err, errSecret) {
			t.Errorf("%v: the log lacks the cause or the request id: %s", tc.err, logs.String())
		}
	}
}

type retryable struct{}

func (*retryable) Error() string     { return "conn refused 10.0.0.5:5432" }
func (*retryable) SafeToRetry() bool { return true }

// TestClientGone: a request whose client left is 499, logged below ERROR.
func TestClientGone(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{Indexer: &fakeIndexer{err: fmt.Errorf("index: %w", context.Canceled)},
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Metrics: NewMetrics()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", indexReportPath+"/"+dg1, nil).WithContext(ctx))
	if rec.Code != 499 || strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("%d, log %s", rec.Code, logs.String())
	}
}

func TestConditional(t *testing.T) {
	ix := &fakeIndexer{reports: map[string]*vuln.IndexReport{
		dg1: {ManifestHash: dg1, IndexState: "state1", State: vuln.IndexFinished},
		dg2: {ManifestHash: dg2, IndexState: "old", State: vuln.IndexFinished},
	}}
	s := &Server{Indexer: ix, Matcher: &fakeMatcher{}, CacheAge: 300_000_000_000}
	h := s.Handler()
	manifest := func(d string) string {
		return `{"hash":"` + d + `","layers":[{"hash":"` + d + `","uri":"https://r/x"}]}`
	}
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		want                     map[string]string // headers
	}{
		{"state", "GET", indexStatePath, "", nil, 200, map[string]string{"ETag": `"state1"`, "Content-Type": mediaIndexState}},
		{"state 304", "GET", indexStatePath, "", map[string]string{"If-None-Match": `"state1"`}, 304, nil},
		{"state json", "GET", indexStatePath, "", map[string]string{"Accept": "application/json"}, 200, map[string]string{"Content-Type": "application/json"}},
		{"state 415", "GET", indexStatePath, "", map[string]string{"Accept": "text/html"}, 415, nil},
		{"report current", "GET", indexReportPath + "/" + dg1, "", nil, 200, map[string]string{"ETag": `"state1"`, "Content-Type": mediaIndexReport}},
		{"report 304", "GET", indexReportPath + "/" + dg1, "", map[string]string{"If-None-Match": `W/"state1"`}, 304, nil},
		{"report stale: no etag, no 304", "GET", indexReportPath + "/" + dg2, "", map[string]string{"If-None-Match": `"state1"`}, 200, map[string]string{"ETag": ""}},
		{"report 404", "GET", indexReportPath + "/" + strings.Replace(dg1, "1", "3", -1), "", nil, 404, nil},
		{"post 412", "POST", indexReportPath, manifest(dg1), map[string]string{"If-None-Match": `"state1"`}, 412, map[string]string{"ETag": `"state1"`}},
		{"post new", "POST", indexReportPath, manifest(strings.Replace(dg1, "1", "4", -1)), nil, 201, map[string]string{
			"Location": indexReportPath + "/" + strings.Replace(dg1, "1", "4", -1), "Content-Type": mediaIndexReport}},
		{"post repeated is 201 too", "POST", indexReportPath, manifest(dg1), nil, 201, nil},
		{"post bad json", "POST", indexReportPath, "{", nil, 400, nil},
		{"vuln report", "GET", vulnReportPath + "/" + dg1, "", nil, 200, map[string]string{"Cache-Control": "max-age=300"}},
		{"unknown route", "GET", "/nope", "", nil, 404, nil},
		{"bad method", "PUT", indexStatePath, "", nil, 405, map[string]string{"Allow": "GET, HEAD"}},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Body, tc.status)
		}
		for k, v := range tc.want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got, v)
			}
		}
		if tc.name == "post new" && len(rec.Header().Values("Link")) != 2 {
			t.Errorf("post: Link = %q, want Clair's two links", rec.Header().Values("Link"))
		}
		if rec.Header().Get(longWorkHeader) != "" {
			t.Errorf("%s: internal header leaked", tc.name)
		}
	}
}

// TestClassicShapes: every /v1 answer that is an error, whoever writes it
// (unknown route, method, body limit), is in the classic shape.
func TestClassicShapes(t *testing.T) {
	s := &Server{Indexer: &fakeIndexer{reports: map[string]*vuln.IndexReport{}}, Classic: &Classic{}, MaxBody: 10}
	h := s.Handler()
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/nope", "", 404},
		{"GET", "/api/v1/layers/x/y/z", "", 404},
		{"PUT", "/v1/layers", "", 405},
		{"POST", "/v1/layers", strings.Repeat("x", 100), 413},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		var e struct{ Error *struct{ Message string } }
		if rec.Code != tc.status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == nil || e.Error.Message == "" {
			t.Errorf("%s %s: %d %s, want %d in the classic shape", tc.method, tc.path, rec.Code, rec.Body, tc.status)
		}
	}
}
