package epss_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/feed/epss"
	"github.com/openclair/clair/feed/internal/enrichtest"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/vuln"
)

// sample is FIRST's native CSV (claircore's excerpt of 2024-10-25), gzipped
// as FIRST serves it.
func sample(t *testing.T) (plain, gz []byte) {
	plain, err := os.ReadFile(sharedtest.Path(t, "feeds/epss/claircore-sample-epss.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(plain)
	zw.Close()
	return plain, buf.Bytes()
}

func parse(b []byte) ([]*vuln.Enrichment, error) {
	var out []*vuln.Enrichment
	err := epss.New().ParseEnrichments(context.Background(), bytes.NewReader(b), int64(len(b)), func(e *vuln.Enrichment) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

func TestParse(t *testing.T) {
	plain, gz := sample(t)
	for name, b := range map[string][]byte{"csv": plain, "csv.gz": gz} {
		recs, err := parse(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(recs) != 29 {
			t.Errorf("%s: %d records, want 29", name, len(recs))
		}
		want := vuln.EPSS{ModelVersion: "v2023.03.01", Date: "2024-10-25T00:00:00+0000", CVE: "CVE-1999-0005", EPSS: 0.91963, Percentile: 0.99030}
		if len(recs) < 1 || *recs[0].EPSS != want || recs[0].CVE != want.CVE {
			t.Errorf("%s: first record %+v, want %+v", name, recs[0].EPSS, want)
		}
	}
	// vunnel's sample of 2025-02-20.
	b, err := os.ReadFile(sharedtest.Path(t, "feeds/samples-vunnel/epss/example-1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := parse(b); err != nil || len(recs) != 5 {
		t.Errorf("example-1.csv: %d records, %v", len(recs), err)
	}
}

// TestUpdate: unchanged costs one request (304), over HTTP and file://.
func TestUpdate(t *testing.T) {
	_, gz := sample(t)
	srv := enrichtest.Serve(t, map[string][]byte{"epss_scores-current.csv.gz": gz})
	s := enrichtest.Store(t)
	url := srv.URL + "epss_scores-current.csv.gz"
	if r := enrichtest.Update(t, s, epss.New(), url); r.Err != nil || !r.Changed || r.Advisories != 29 {
		t.Fatalf("first update: %+v", r)
	}
	srv.Requests()
	if r := enrichtest.Update(t, s, epss.New(), url); r.Err != nil || r.Changed {
		t.Fatalf("second update: %+v", r)
	}
	if n, paths := srv.Requests(); n != 1 {
		t.Errorf("unchanged feed: %d requests %v, want 1", n, paths)
	}
	m := enrichtest.Records(t, s, "CVE-1999-0005")
	if e := m["epss CVE-1999-0005"]; e == nil || e.EPSS.Percentile != 0.99030 {
		t.Errorf("CVE-1999-0005: %+v", e)
	}
	p := filepath.Join(t.TempDir(), "epss.csv.gz")
	os.WriteFile(p, gz, 0o644)
	fs := enrichtest.Store(t)
	if r := enrichtest.Update(t, fs, epss.New(), "file://"+p); r.Err != nil || !r.Changed {
		t.Fatalf("file:// update: %+v", r)
	}
	if r := enrichtest.Update(t, fs, epss.New(), "file://"+p); r.Err != nil || r.Changed {
		t.Fatalf("file:// second update: %+v", r)
	}
}

// TestBadInput: each bad file is an error naming the file, line and field;
// the stored scores stay. vunnel's invalid-header.csv and missing-date.csv
// are real broken files.
func TestBadInput(t *testing.T) {
	plain, gz := sample(t)
	s := enrichtest.Store(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv.gz")
	os.WriteFile(good, gz, 0o644)
	if r := enrichtest.Update(t, s, epss.New(), good); r.Err != nil {
		t.Fatal(r.Err)
	}
	st, _ := s.FeedState(t.Context(), epss.Name)
	read := func(rel string) string {
		b, err := os.ReadFile(sharedtest.Path(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cut := bytes.LastIndexByte(plain[:len(plain)-1], '\n')
	for _, tc := range []struct{ name, content, want string }{
		{"invalid-header.csv", read("feeds/samples-vunnel/epss/invalid-header.csv"), `line 2: header "invalid,header,format"`},
		{"missing-date.csv", read("feeds/samples-vunnel/epss/missing-date.csv"), "line 1"},
		{"truncated.csv.gz", string(gz[:len(gz)/2]), "unexpected EOF"},
		{"cut-row.csv", string(plain[:cut+8]), "line 31: 1 fields"},
		{"bad-score.csv", "#model_version:v1,score_date:2024-10-25\ncve,epss,percentile\nCVE-1999-0001,1.5,0.2\n", "line 3: field epss"},
		{"bad-cve.csv", "#model_version:v1,score_date:2024-10-25\ncve,epss,percentile\nCVE-1999,0.5,0.2\n", "line 3: field cve"},
		{"json.csv", `{"score_date":"2021-08-31","data":[]}`, "line 1"},
		{"header-only.csv", "#model_version:v1,score_date:2024-10-25\ncve,epss,percentile\n", "no scores"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, []byte(tc.content), 0o644)
		r := enrichtest.Update(t, s, epss.New(), p)
		if r.Err == nil || !strings.Contains(r.Err.Error(), tc.name) || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", tc.name, r.Err, tc.want)
		}
	}
	if after, err := s.FeedState(t.Context(), epss.Name); err != nil || after.Operation != st.Operation {
		t.Errorf("stored scores replaced: %+v, %v", after, err)
	}
	if m := enrichtest.Records(t, s, "CVE-1999-0005"); m["epss CVE-1999-0005"] == nil {
		t.Error("CVE-1999-0005 lost")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("#model_version:v2023.03.01,score_date:2024-10-25T00:00:00+0000\ncve,epss,percentile\nCVE-1999-0001,0.00383,0.73075\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := parse(b)
		if err != nil {
			return
		}
		for _, r := range recs {
			if !vuln.IsCVE(r.CVE) || r.EPSS == nil || r.EPSS.EPSS < 0 || r.EPSS.EPSS > 1 || r.EPSS.Percentile < 0 || r.EPSS.Percentile > 1 {
				t.Fatalf("accepted a bad record %+v", r)
			}
		}
	})
}
