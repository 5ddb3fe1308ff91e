package kev_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/feed/internal/enrichtest"
	"github.com/openclair/clair/feed/kev"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/vuln"
)

func catalog(t *testing.T) []byte {
	b, err := os.ReadFile(sharedtest.Path(t, "feeds/kev/known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(b []byte) ([]*vuln.Enrichment, error) {
	var out []*vuln.Enrichment
	err := kev.New().ParseEnrichments(context(), bytes.NewReader(b), int64(len(b)), func(e *vuln.Enrichment) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// TestParse reads CISA's catalog of 2025-08-25 (1,404 entries).
func TestParse(t *testing.T) {
	recs, err := parse(catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1404 {
		t.Errorf("%d records, want 1404", len(recs))
	}
	var log4j *vuln.KEV
	for _, r := range recs {
		if r.CVE == "CVE-2021-44228" {
			log4j = r.KEV
		}
	}
	want := vuln.KEV{CVE: "CVE-2021-44228", VulnerabilityName: "Apache Log4j2 Remote Code Execution Vulnerability",
		CatalogVersion: "2025.08.25", DateAdded: "2021-12-10", DueDate: "2021-12-24", KnownRansomwareCampaignUse: "Known"}
	if log4j == nil {
		t.Fatal("no CVE-2021-44228")
	}
	got := *log4j
	got.ShortDescription, got.RequiredAction = "", ""
	if got != want {
		t.Errorf("CVE-2021-44228: %+v, want %+v", got, want)
	}
}

// TestUpdate: over HTTP the first update stores the catalog, the second is
// one conditional request answered 304; the same from a file:// copy.
func TestUpdate(t *testing.T) {
	b := catalog(t)
	srv := enrichtest.Serve(t, map[string][]byte{"known_exploited_vulnerabilities.json": b})
	s := enrichtest.Store(t)
	url := srv.URL + "known_exploited_vulnerabilities.json"
	if r := enrichtest.Update(t, s, kev.New(), url); r.Err != nil || !r.Changed || r.Advisories != 1404 {
		t.Fatalf("first update: %+v", r)
	}
	srv.Requests()
	if r := enrichtest.Update(t, s, kev.New(), url); r.Err != nil || r.Changed {
		t.Fatalf("second update: %+v", r)
	}
	if n, paths := srv.Requests(); n != 1 {
		t.Errorf("unchanged feed: %d requests (%v), want 1", n, paths)
	}
	if m := enrichtest.Records(t, s, "CVE-2021-44228"); m["kev CVE-2021-44228"] == nil {
		t.Errorf("CVE-2021-44228 not stored: %v", m)
	}

	p := filepath.Join(t.TempDir(), "kev.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fs := enrichtest.Store(t)
	if r := enrichtest.Update(t, fs, kev.New(), "file://"+p); r.Err != nil || !r.Changed {
		t.Fatalf("file:// update: %+v", r)
	}
	if r := enrichtest.Update(t, fs, kev.New(), "file://"+p); r.Err != nil || r.Changed {
		t.Fatalf("file:// second update: %+v", r)
	}
}

// TestBadInput: a truncated catalog, or a document of another shape, is an
// error naming the file and the entry or field, and the stored catalog stays.
func TestBadInput(t *testing.T) {
	b := catalog(t)
	s := enrichtest.Store(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := enrichtest.Update(t, s, kev.New(), good); r.Err != nil {
		t.Fatal(r.Err)
	}
	st, err := s.FeedState(t.Context(), kev.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"truncated.json", string(b[:len(b)/2]), "vulnerabilities["},
		{"array.json", `[{"cveID":"CVE-2021-44228"}]`, `want "{"`},
		{"list-is-object.json", `{"catalogVersion":"x","vulnerabilities":{"a":1}}`, "field vulnerabilities"},
		{"no-list.json", `{"title":"not it"}`, "no field vulnerabilities"},
		{"bad-id.json", `{"vulnerabilities":[{"cveID":"GHSA-1234","dateAdded":"2024-01-01"}]}`, `field cveID "GHSA-1234"`},
		{"no-date.json", `{"vulnerabilities":[{"cveID":"CVE-2024-0001"}]}`, "dateAdded"},
		{"wrong-type.json", `{"vulnerabilities":[{"cveID":12}]}`, "vulnerabilities[0]"},
		{"empty.json", ``, "catalog"},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		r := enrichtest.Update(t, s, kev.New(), p)
		if r.Err == nil || !strings.Contains(r.Err.Error(), tc.name) || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", tc.name, r.Err, tc.want)
		}
	}
	if after, err := s.FeedState(t.Context(), kev.Name); err != nil || after.Operation != st.Operation || after.Advisories != 1404 {
		t.Errorf("stored catalog changed: %+v, %v", after, err)
	}
	if m := enrichtest.Records(t, s, "CVE-2021-44228"); m["kev CVE-2021-44228"] == nil {
		t.Error("CVE-2021-44228 lost")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2021-44228","dateAdded":"2021-12-10"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := parse(b)
		if err != nil {
			return
		}
		for _, r := range recs {
			if !vuln.IsCVE(r.CVE) || r.KEV == nil || r.KEV.DateAdded == "" {
				t.Fatalf("accepted a bad record %+v", r)
			}
		}
	})
}
