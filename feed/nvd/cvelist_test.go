package nvd_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/feed/internal/enrichtest"
	"github.com/openclair/clair/feed/nvd"
	"github.com/openclair/clair/vuln"
)

func parseArchive(b []byte) (map[string]*vuln.Enrichment, error) {
	out := map[string]*vuln.Enrichment{}
	err := nvd.NewCVEList().ParseEnrichments(context.Background(), bytes.NewReader(b), int64(len(b)), func(e *vuln.Enrichment) error {
		out[e.CVE] = e
		return nil
	})
	return out, err
}

// TestCVEList reads a real cvelistV5 archive (4 records, 2 scored by their
// CNA), through the updater from file:// and over HTTP (unchanged: one
// request); a truncated archive is an error and the records stay.
func TestCVEList(t *testing.T) {
	b := read(t, "feeds/nvd/cvelistV5-sample.tar.gz")
	m, err := parseArchive(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || best(m["CVE-2023-0001"]) != "cna 3.1 6.0 MEDIUM" || best(m["CVE-2023-0002"]) != "cna 3.1 5.5 MEDIUM" {
		t.Errorf("records %v", m)
	}

	srv := enrichtest.Serve(t, map[string][]byte{"main.tar.gz": b})
	s := enrichtest.Store(t)
	if r := enrichtest.Update(t, s, nvd.NewCVEList(), srv.URL+"main.tar.gz"); r.Err != nil || !r.Changed || r.Advisories != 2 {
		t.Fatalf("first update: %+v", r)
	}
	srv.Requests()
	if r := enrichtest.Update(t, s, nvd.NewCVEList(), srv.URL+"main.tar.gz"); r.Err != nil || r.Changed {
		t.Fatalf("second update: %+v", r)
	}
	if n, _ := srv.Requests(); n != 1 {
		t.Errorf("unchanged: %d requests, want 1", n)
	}

	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"truncated.tar.gz", b[:len(b)/2], "unexpected EOF"},
		{"foreign.tar.gz", tarGz(t, "cves/2023/0xxx/CVE-2023-0001.json", `{"dataType":"CVE_RECORD_V4"}`), `CVE-2023-0001.json: field dataType`},
		{"broken.tar.gz", tarGz(t, "cves/2023/0xxx/CVE-2023-0001.json", `{"dataType":"CVE_RECORD","cveMetadata":{`), "CVE-2023-0001.json: unexpected end"},
		{"empty.tar.gz", tarGz(t, "README.md", "# no records"), "no CVE records"},
		// A record past the 16 MiB bound (a few kilobytes gzipped).
		{"huge.tar.gz", tarGz(t, "cves/2023/0xxx/CVE-2023-0001.json", `{"dataType":"CVE_RECORD","x":"`+strings.Repeat("a", 17<<20)+`"}`), "too large"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.content, 0o644)
		r := enrichtest.Update(t, s, nvd.NewCVEList(), "file://"+p)
		if r.Err == nil || !strings.Contains(r.Err.Error(), tc.name) || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming the file and %q", tc.name, r.Err, tc.want)
		}
	}
	if m := enrichtest.Records(t, s, "CVE-2023-0001"); best(m["cvelist CVE-2023-0001"]) != "cna 3.1 6.0 MEDIUM" {
		t.Errorf("records after failed updates: %v", m)
	}
}

func tarGz(t testing.TB, name, content string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "cvelistV5-main/" + name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(content))
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// FuzzCVERecord parses one CVE record as the archive carries it.
func FuzzCVERecord(f *testing.F) {
	f.Add([]byte(`{"dataType":"CVE_RECORD","cveMetadata":{"cveId":"CVE-2023-0001","state":"PUBLISHED"},"containers":{"cna":{"metrics":[{"cvssV3_1":{"version":"3.1","vectorString":"CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:H/I:N/A:H","baseScore":6,"baseSeverity":"MEDIUM"}}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseArchive(tarGz(t, "cves/2023/0xxx/CVE-2023-0001.json", string(b)))
		if err != nil {
			return
		}
		for id, e := range m {
			if !vuln.IsCVE(id) || len(e.CVSS) == 0 {
				t.Fatalf("accepted %s %+v", id, e)
			}
		}
	})
}
