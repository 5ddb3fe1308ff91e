package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/vuln"
)

// clairStandIn serves the two endpoints "report" uses. It checks the posted
// manifest the way an indexer depends on it (the hash is the pushed digest,
// every layer URI answers with the given headers and its bytes hash to the
// layer digest) and answers with a real vulnerability report.
type clairStandIn struct {
	srv *httptest.Server

	mu      sync.Mutex
	auths   []string // the Authorization of each request
	indexed int
}

func newClairStandIn(t *testing.T, want pushed, needAuth bool, vr []byte, psk *auth.PSK) *clairStandIn {
	t.Helper()
	c := &clairStandIn{}
	apiError := func(w http.ResponseWriter, status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]string{"code": code, "message": msg})
		w.Write(b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /indexer/api/v1/index_report", func(w http.ResponseWriter, r *http.Request) {
		var m vuln.Manifest
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			apiError(w, http.StatusBadRequest, "bad-request", err.Error())
			return
		}
		if err := checkManifest(&m, want, needAuth); err != nil {
			t.Errorf("posted manifest: %v", err)
			apiError(w, http.StatusBadRequest, "bad-request", err.Error())
			return
		}
		c.mu.Lock()
		c.indexed++
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(&vuln.IndexReport{ManifestHash: m.Hash, State: vuln.IndexFinished, Success: true})
	})
	mux.HandleFunc("GET /matcher/api/v1/vulnerability_report/{digest}", func(w http.ResponseWriter, r *http.Request) {
		if d := r.PathValue("digest"); d != want.digest {
			apiError(w, http.StatusNotFound, "not-found", "no index report for "+d)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(vr)
	})
	var h http.Handler = mux
	if psk != nil {
		h = psk.Middleware(mux)
	}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.auths = append(c.auths, r.Header.Get("Authorization"))
		c.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// realReport is the vulnerability report "clairctl scan" makes of the
// pushed alpine image from the repository's alpine secdb excerpt: what a
// Clair server would answer, produced by this repository's indexer and
// matcher rather than written by hand.
func realReport(t *testing.T, img pushed) []byte {
	t.Helper()
	db := filepath.Join(t.TempDir(), "clair.db")
	out, errOut, code := clairctl(t, "--db", db, "scan", "--only", "alpine", "--feed", "alpine=file://"+filepath.Join(root, "testdata/feeds/alpine"),
		"--format", "json", img.ref)
	if code != 0 {
		t.Fatalf("scan %s: exit %d: %s", img.ref, code, errOut)
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal([]byte(out), &vr); err != nil {
		t.Fatal(err)
	}
	if vr.ManifestHash != img.digest || len(vr.Vulnerabilities) == 0 {
		t.Fatalf("scan: manifest_hash %s (pushed %s), %d vulnerabilities", vr.ManifestHash, img.digest, len(vr.Vulnerabilities))
	}
	return []byte(out)
}

func TestReport(t *testing.T) {
	tr := newTestRegistry(t, true)
	alpine := pushImage(t, tr, "library/alpine:3.18.9", "alpine-3.18.9.tar")
	canned := realReport(t, alpine)
	clair := newClairStandIn(t, alpine, true, canned, nil)

	out, errOut, code := clairctl(t, "report", "--host", clair.srv.URL+"/", "--format", "json", alpine.ref)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got, want vuln.VulnerabilityReport
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, out)
	}
	json.Unmarshal(canned, &want)
	if got.ManifestHash != alpine.digest || len(got.Vulnerabilities) != len(want.Vulnerabilities) || len(got.Packages) != len(want.Packages) {
		t.Errorf("report: %s, %d vulnerabilities, %d packages; want %s, %d, %d",
			got.ManifestHash, len(got.Vulnerabilities), len(got.Packages), alpine.digest, len(want.Vulnerabilities), len(want.Packages))
	}
	if clair.indexed != 1 {
		t.Errorf("indexed %d times", clair.indexed)
	}
	for _, a := range clair.auths {
		if a != "" {
			t.Errorf("request signed without --psk-key: %q", a)
		}
	}

	// The table is the scan command's table.
	t.Setenv("CLAIR_HOST", clair.srv.URL)
	table, errOut, code := clairctl(t, "report", alpine.ref)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(table, "PACKAGE") || !strings.Contains(table, "Total: ") || !strings.Contains(table, "CVE-") {
		t.Errorf("table:\n%s", table)
	}
}

func TestReportPSK(t *testing.T) {
	tr := newTestRegistry(t, true)
	alpine := pushImage(t, tr, "library/alpine:3.18.9", "alpine-3.18.9.tar")
	canned := realReport(t, alpine)
	key := []byte("the pre-shared key of this test!")
	psk := &auth.PSK{Key: key, Issuers: []string{"ci-pipeline"}}
	clair := newClairStandIn(t, alpine, true, canned, psk)

	t.Setenv("CLAIR_PSK_KEY", base64.StdEncoding.EncodeToString(key))
	help, _, _ := clairctl(t, "report", "--help")
	if strings.Contains(help, os.Getenv("CLAIR_PSK_KEY")) {
		t.Errorf("--help shows the key from the environment:\n%s", help)
	}
	out, errOut, code := clairctl(t, "report", "--host", clair.srv.URL, "--psk-iss", "ci-pipeline", "--format", "json", alpine.ref)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, alpine.digest) {
		t.Errorf("output:\n%s", out)
	}
	if len(clair.auths) != 2 {
		t.Fatalf("%d requests, want index_report and vulnerability_report", len(clair.auths))
	}
	for _, a := range clair.auths {
		tok, ok := strings.CutPrefix(a, "Bearer ")
		if !ok {
			t.Fatalf("Authorization %q", a)
		}
		if err := psk.Verify(tok); err != nil {
			t.Errorf("token does not verify: %v", err)
		}
	}

	// Refusals name the status and the server's message on one line.
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong key", []string{"--psk-key", base64.URLEncoding.EncodeToString([]byte("not the key")), "--psk-iss", "ci-pipeline"}, "401 Unauthorized: unauthorized: bad signature"},
		{"wrong issuer", []string{"--psk-iss", "clairctl"}, `401 Unauthorized: unauthorized: issuer "clairctl" not allowed`},
		{"unsigned", []string{"--psk-key", ""}, "401 Unauthorized: unauthorized: missing Authorization header"},
		{"bad key", []string{"--psk-key", "%%%"}, "--psk-key: auth: key: not valid base64"},
	} {
		args := append([]string{"report", "--host", clair.srv.URL}, tc.args...)
		_, errOut, code := clairctl(t, append(args, alpine.ref)...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q, want one line with %q", tc.name, code, errOut, tc.want)
		}
	}
}

func TestReportErrors(t *testing.T) {
	tr := newTestRegistry(t, false)
	alpine := pushImage(t, tr, "alpine:3.18.9", "alpine-3.18.9.tar")

	// A server that indexed but failed, one that errs, and one that is not there.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/indexer/api/v1/index_report":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"manifest_hash":%q,"state":"IndexError","success":false,"err":"layer fetch: 403 Forbidden"}`, alpine.digest)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"code":"internal-error","message":"database is down"}`)
		}
	}))
	defer failing.Close()
	erring := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream\nproxy error", http.StatusBadGateway)
	}))
	defer erring.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--host", failing.URL}, "indexing failed (state IndexError): layer fetch: 403 Forbidden"},
		{[]string{"--host", erring.URL}, "POST /indexer/api/v1/index_report: 502 Bad Gateway: upstream proxy error"},
		{[]string{"--host", gone.URL}, "connection refused"},
		{[]string{"--host", "localhost:6060"}, "want an http:// or https:// URL"},
		{[]string{"--host", failing.URL, "--format", "xml"}, `--format "xml"`},
	} {
		args := append(append([]string{"report"}, tc.args...), alpine.ref)
		_, errOut, code := clairctl(t, args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestReportSeedForm: the seeds' spelling works as written, and report
// takes the same gates as scan.
func TestReportSeedForm(t *testing.T) {
	tr := newTestRegistry(t, true)
	alpine := pushImage(t, tr, "library/alpine:3.18.9", "alpine-3.18.9.tar")
	clair := newClairStandIn(t, alpine, true, realReport(t, alpine), nil)
	t.Setenv("CLAIR_HOST", clair.srv.URL)

	// The alpine report holds CVE-2024-9143 (Unknown severity) in
	// libcrypto3 and libssl3: nothing at High.
	out, errOut, code := clairctl(t, "report", "--image-ref", alpine.ref, "--output-format", "json", "--minimum-severity", "High")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal([]byte(out), &vr); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(vr.PackageVulnerabilities) != 0 || len(vr.Packages) != 15 {
		t.Errorf("--minimum-severity High: %d findings in %d packages", len(vr.PackageVulnerabilities), len(vr.Packages))
	}
	_, errOut, code = clairctl(t, "report", "--image-ref", alpine.ref, "--fail-on", "unknown")
	if code != 1 || !strings.Contains(errOut, "gate: 2 findings") {
		t.Errorf("--fail-on unknown: exit %d: %s", code, errOut)
	}
	_, errOut, code = clairctl(t, "report", "--image-ref", alpine.ref, "--fail-on", "unknown", "--ignore-unfixed", "--severity", "Low")
	if code != 0 {
		t.Errorf("filtered gate: exit %d: %s", code, errOut)
	}
	_, errOut, code = clairctl(t, "report")
	if code != 2 || !strings.Contains(errOut, "--image-ref") {
		t.Errorf("no image: exit %d: %s", code, errOut)
	}
}
