package nvd_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/feed/internal/enrichtest"
	"github.com/openclair/clair/feed/nvd"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/vuln"
)

func read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedtest.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFile(name string, b []byte) (map[string]*vuln.Enrichment, error) {
	out := map[string]*vuln.Enrichment{}
	err := nvd.ParseFile(context.Background(), name, bytes.NewReader(b), map[string]struct{}{}, func(e *vuln.Enrichment) error {
		out[e.CVE] = e
		return nil
	})
	return out, err
}

// best is the score a report shows, as "source version score SEVERITY".
func best(e *vuln.Enrichment) string {
	if e == nil || len(e.CVSS) == 0 {
		return ""
	}
	c := e.CVSS[0]
	return fmt.Sprintf("%s %s %.1f %s", c.Source, c.Version, c.Score, c.Severity)
}

// TestParseFile reads NVD's documents: a yearly feed excerpt, API 2.0
// responses (same shape), vunnel's page of 41 CVEs.
func TestParseFile(t *testing.T) {
	all := map[string]*vuln.Enrichment{}
	for _, rel := range []string{"feeds/nvd/nvdcve-2.0-2021-sample.json.gz", "feeds/nvd/nvd-api2-CVE-2021-44228.json.gz",
		"feeds/nvd/claircore-nvd-api2-sample.json", "feeds/samples-vunnel/nvd/full-page.json", "feeds/samples-vunnel/nvd/single-entry.json"} {
		m, err := parseFile(rel, read(t, rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for k, v := range m {
			all[k] = v
		}
	}
	for cve, want := range map[string]string{
		"CVE-2021-3002":  "nvd 3.1 6.1 MEDIUM",
		"CVE-2021-23814": "nvd 3.1 8.8 HIGH", // over Snyk's 6.7
		"CVE-2021-44228": "nvd 3.1 10.0 CRITICAL",
		"CVE-2016-2781":  "nvd 3.0 6.5 MEDIUM", // NVD's 3.0 over CISA-ADP's 3.1
		"CVE-2023-30781": "cna 3.1 7.1 HIGH",   // awaiting analysis: Patchstack's
		"CVE-2023-22068": "cna 3.1 4.9 MEDIUM", // Oracle's, marked Primary by NVD
		"CVE-2023-43250": "",                   // no score yet: no record
		"CVE-2016-3197":  "",                   // rejected
	} {
		if got := best(all[cve]); got != want {
			t.Errorf("%s: %q, want %q", cve, got, want)
		}
	}
	l := all["CVE-2021-44228"]
	if len(l.CVSS) != 2 || l.CVSS[1].Source != vuln.CVSSSourceCISAADP {
		t.Errorf("CVE-2021-44228 scores %+v, want NVD's and CISA-ADP's", l.CVSS)
	}
	var data struct {
		Vector string `json:"vectorString"`
	}
	if err := json.Unmarshal(l.CVSS[0].Data, &data); err != nil || data.Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" {
		t.Errorf("CVE-2021-44228 cvssData %s (%v)", l.CVSS[0].Data, err)
	}
}

// mirror is NVD's folder as a web server serves it for 2002..2025: the
// real 2021 excerpt, the real Log4Shell API response as the modified feed,
// and for the other years the 2021 document with no records selected.
func mirror(t *testing.T) map[string][]byte {
	y2021 := read(t, "feeds/nvd/nvdcve-2.0-2021-sample.json.gz")
	zr, err := gzip.NewReader(bytes.NewReader(y2021))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	doc["vulnerabilities"], doc["totalResults"], doc["resultsPerPage"] = []any{}, 0, 0
	var none bytes.Buffer
	zw := gzip.NewWriter(&none)
	json.NewEncoder(zw).Encode(doc)
	zw.Close()
	files := map[string][]byte{"nvdcve-2.0-modified.json.gz": read(t, "feeds/nvd/nvd-api2-CVE-2021-44228.json.gz")}
	for y := 2002; y <= 2025; y++ {
		files[fmt.Sprintf("nvdcve-2.0-%d.json.gz", y)] = none.Bytes()
	}
	files["nvdcve-2.0-2021.json.gz"] = y2021
	return files
}

func feed2025() *nvd.Feed { return feedAt(25) }

// feedAt is the feed on a day of June 2025.
func feedAt(day int) *nvd.Feed {
	return &nvd.Feed{Now: func() time.Time { return time.Date(2025, 6, day, 0, 0, 0, 0, time.UTC) }}
}

// TestUpdate: a full update fetches the modified feed and every year; an
// unchanged feed is one conditional request (the modified feed's, 304). A
// year missing from a web mirror is an error naming it, and the stored
// records stay.
func TestUpdate(t *testing.T) {
	files := mirror(t)
	srv := enrichtest.Serve(t, files)
	s := enrichtest.Store(t)
	r := enrichtest.Update(t, s, feed2025(), srv.URL)
	if r.Err != nil || !r.Changed || r.Advisories != 3 {
		t.Fatalf("first update: %+v", r)
	}
	if n, _ := srv.Requests(); n != 25 {
		t.Errorf("first update: %d requests, want 25 (modified and 24 years)", n)
	}
	if r := enrichtest.Update(t, s, feed2025(), srv.URL); r.Err != nil || r.Changed {
		t.Fatalf("second update: %+v", r)
	}
	if n, paths := srv.Requests(); n != 1 || paths[0] != "/nvdcve-2.0-modified.json.gz" {
		t.Errorf("unchanged feed: %d requests %v, want 1", n, paths)
	}
	m := enrichtest.Records(t, s, "CVE-2021-3002", "CVE-2021-44228")
	if best(m["nvd CVE-2021-3002"]) != "nvd 3.1 6.1 MEDIUM" || best(m["nvd CVE-2021-44228"]) != "nvd 3.1 10.0 CRITICAL" {
		t.Errorf("stored: %v", m)
	}

	// The modified feed changes and 2010 is gone; eight days after the
	// full download, the update is a full one again.
	files["nvdcve-2.0-modified.json.gz"] = read(t, "feeds/nvd/nvdcve-2.0-2021-sample.json.gz")
	delete(files, "nvdcve-2.0-2010.json.gz")
	r = enrichtest.Update(t, s, &nvd.Feed{Now: func() time.Time { return time.Date(2025, 7, 3, 0, 0, 0, 0, time.UTC) }}, srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "nvdcve-2.0-2010.json.gz") || !strings.Contains(r.Err.Error(), "404") {
		t.Errorf("missing year: %v", r.Err)
	}
	if m := enrichtest.Records(t, s, "CVE-2021-3002"); m["nvd CVE-2021-3002"] == nil {
		t.Error("records lost after a failed update")
	}
}

// TestLocalMirror: a file:// folder holding some years; unchanged costs no
// download; a truncated or foreign file is an error naming it and the field,
// and the stored records stay.
func TestLocalMirror(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	y2021 := read(t, "feeds/nvd/nvdcve-2.0-2021-sample.json.gz")
	write("nvdcve-2.0-modified.json.gz", read(t, "feeds/nvd/nvd-api2-CVE-2021-44228.json.gz"))
	write("nvdcve-2.0-2021.json.gz", y2021)
	s := enrichtest.Store(t)
	if r := enrichtest.Update(t, s, feed2025(), "file://"+dir); r.Err != nil || !r.Changed || r.Advisories != 3 {
		t.Fatalf("first update: %+v", r)
	}
	if r := enrichtest.Update(t, s, feed2025(), "file://"+dir); r.Err != nil || r.Changed {
		t.Fatalf("second update: %+v", r)
	}
	st, _ := s.FeedState(t.Context(), nvd.Name)
	// Past the increment window: full updates, which read every year.
	later := &nvd.Feed{Now: func() time.Time { return time.Date(2025, 7, 3, 0, 0, 0, 0, time.UTC) }}
	plain, _ := gzip.NewReader(bytes.NewReader(y2021))
	var buf bytes.Buffer
	buf.ReadFrom(plain)
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"truncated gzip", y2021[:len(y2021)/2], "unexpected EOF"},
		{"truncated json", buf.Bytes()[:buf.Len()/2], "vulnerabilities["},
		{"NVD 1.1 shape", []byte(`{"CVE_data_type":"CVE","CVE_Items":[]}`), "no field vulnerabilities"},
		{"bad severity", bytes.Replace(buf.Bytes(), []byte(`"baseSeverity": "MEDIUM"`), []byte(`"baseSeverity": "SEVERE"`), 1), `field baseSeverity "SEVERE"`},
		{"bad id", bytes.Replace(buf.Bytes(), []byte(`"id": "CVE-2021-3002"`), []byte(`"id": "2021-3002"`), 1), `field cve.id "2021-3002"`},
	} {
		// The modified feed differs from the stored one's: a full update.
		write("nvdcve-2.0-modified.json.gz", y2021)
		write("nvdcve-2.0-2021.json.gz", tc.content)
		r := enrichtest.Update(t, s, later, "file://"+dir)
		if r.Err == nil || !strings.Contains(r.Err.Error(), "nvdcve-2.0-2021.json.gz") || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming the file and %q", tc.name, r.Err, tc.want)
		}
	}
	if after, _ := s.FeedState(t.Context(), nvd.Name); after.Operation != st.Operation {
		t.Error("stored records replaced by a failed update")
	}
	if m := enrichtest.Records(t, s, "CVE-2021-3002"); m["nvd CVE-2021-3002"] == nil {
		t.Error("CVE-2021-3002 lost")
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"vulnerabilities":[{"cve":{"id":"CVE-2021-3002","metrics":{"cvssMetricV31":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N","baseScore":6.1,"baseSeverity":"MEDIUM"}}]}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseFile("fuzz", b)
		if err != nil {
			return
		}
		for id, e := range m {
			if !vuln.IsCVE(id) || len(e.CVSS) == 0 {
				t.Fatalf("accepted %s %+v", id, e)
			}
			for _, c := range e.CVSS {
				if c.Score < 0 || c.Score > 10 || vuln.SeverityOfCVSS(c.Severity) == vuln.Unknown {
					t.Fatalf("accepted a bad score %+v", c)
				}
			}
		}
	})
}

// TestBest pins which score wins: NVD's, then CISA-ADP's, then the CNA's;
// within a source v3.1, v3.0, then v4.0; one per source and version.
func TestBest(t *testing.T) {
	in := []vuln.CVSS{
		{Source: vuln.CVSSSourceCNA, Version: "3.1"},
		{Source: vuln.CVSSSourceNVD, Version: "4.0"},
		{Source: vuln.CVSSSourceCISAADP, Version: "3.0"},
		{Source: vuln.CVSSSourceNVD, Version: "3.0"},
		{Source: vuln.CVSSSourceNVD, Version: "3.1"},
		{Source: vuln.CVSSSourceCNA, Version: "3.1", Score: 1},
	}
	var got []string
	for _, c := range nvd.Best(in) {
		got = append(got, c.Source+" "+c.Version)
	}
	want := []string{"nvd 3.1", "nvd 3.0", "nvd 4.0", "cisa-adp 3.0", "cna 3.1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("order %v, want %v", got, want)
	}
}

// TestIncrement: within a week of the full download, a changed modified
// feed is the only file fetched; its CVEs are added or replaced and the
// stored records of the others carried over. A week later the update is a
// full one again.
func TestIncrement(t *testing.T) {
	files := mirror(t)
	srv := enrichtest.Serve(t, files)
	s := enrichtest.Store(t)
	if r := enrichtest.Update(t, s, feedAt(20), srv.URL); r.Err != nil || r.Advisories != 3 {
		t.Fatalf("full update: %+v", r)
	}
	srv.Requests()
	// NVD's API answer of three 2016 CVEs (one rejected) as the new
	// modified feed.
	files["nvdcve-2.0-modified.json.gz"] = read(t, "feeds/nvd/claircore-nvd-api2-sample.json")
	r := enrichtest.Update(t, s, feedAt(21), srv.URL)
	if r.Err != nil || !r.Changed || r.Advisories != 5 {
		t.Fatalf("increment: %+v", r)
	}
	if n, paths := srv.Requests(); n != 1 || paths[0] != "/nvdcve-2.0-modified.json.gz" {
		t.Errorf("increment: %d requests %v, want the modified feed alone", n, paths)
	}
	m := enrichtest.Records(t, s, "CVE-2021-3002", "CVE-2021-23814", "CVE-2021-44228", "CVE-2016-2781", "CVE-2016-3674", "CVE-2016-3197")
	for _, cve := range []string{"CVE-2021-3002", "CVE-2021-23814", "CVE-2021-44228", "CVE-2016-2781", "CVE-2016-3674"} {
		if m["nvd "+cve] == nil {
			t.Errorf("%s missing after the increment", cve)
		}
	}
	if m["nvd CVE-2016-3197"] != nil {
		t.Error("rejected CVE-2016-3197 stored")
	}
	// The modified feed changes again a week after the full download.
	files["nvdcve-2.0-modified.json.gz"] = read(t, "feeds/nvd/nvd-api2-CVE-2021-44228.json.gz")
	if r := enrichtest.Update(t, s, feedAt(28), srv.URL); r.Err != nil || r.Advisories != 3 {
		t.Fatalf("full update: %+v", r)
	}
	if n, _ := srv.Requests(); n != 25 {
		t.Errorf("full update: %d requests, want 25", n)
	}
}
