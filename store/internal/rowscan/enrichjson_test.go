package rowscan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/openclair/clair/feed/kev"
	"github.com/openclair/clair/vuln"
)

// sameAsUnmarshal fails unless decodeEnrichment gives what json.Unmarshal
// gives: the same error-ness, and the same record.
func sameAsUnmarshal(t *testing.T, rec []byte) {
	t.Helper()
	var got, want vuln.Enrichment
	gotErr, wantErr := decodeEnrichment(rec, &got), json.Unmarshal(rec, &want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%s: error %v, json.Unmarshal's %v", rec, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %#v\nwant %#v", rec, got, want)
	}
}

var enrichSeeds = []string{
	`{"cve":"CVE-2021-44228","cvss":[{"source":"nvd","version":"3.1","vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","score":10,"severity":"CRITICAL","data":{"version":"3.1","baseScore":10.0,"a":["x\"}",{"b":null}]}}]}`,
	`{"cve":"CVE-2020-0001","epss":{"modelVersion":"v1","date":"2021-08-31","cve":"CVE-2020-0001","epss":0.00043,"percentile":1e-3}}`,
	`{"cve":"CVE-2020-0001","kev":{"cve":"CVE-2020-0001","vulnerability_name":"x","catalog_version":"2024.01.01","date_added":"2021-11-03","short_description":"é ü","required_action":"patch","due_date":"2021-11-17","known_ransomware_campaign_use":"Known"}}`,
	`{"cve":"CVE-2020-0001","kev":{"short_description":"a \u003cb\u003e \"q\""}}`,
	`{"feed":"nvd","cve":"CVE-1","cvss":[]}`,
	`{"cve":"CVE-1","cvss":[{"score":-0},{"score":1.5E+2},{"score":2e400}]}`,
	`{"cve":"CVE-1","cvss":[{"score":01}]}`,
	`{"cve":"CVE-1","cvss":[{"score":.5}]}`,
	`{"cve":"CVE-1","cvss":[{"score":1.}]}`,
	`{"cve":"CVE-1","cvss":[{"score":"1"}]}`,
	`{"cve":"CVE-1","cvss":[{"data":"x"}]}`,
	`{"cve":"CVE-1","cvss":[{"data":null}]}`,
	`{"cve":"CVE-1","cvss":[{"data":{"a":1,}}]}`,
	`{"cve":"CVE-1","cvss":[{"data":[1,2]}]}`,
	`{"cve":"CVE-1","cvss":null}`,
	`{"cve":"CVE-1","epss":null,"kev":null}`,
	`{"cve":"CVE-1","cve":"CVE-2"}`,
	`{"cve":"CVE-1","epss":{"epss":1},"epss":{"date":"d"}}`,
	`{"CVE":"CVE-1","Cvss":[{"Score":3}]}`,
	`{"cve":"CVE-1","other":{"x":[1]}}`,
	`{ "cve" : "CVE-1" }`,
	`{"cve":"CVE-1"} `,
	`{"cve":"CVE-1"}x`,
	`{"cve":"CVE-1"`,
	`{"cve":"a` + "\xff" + `b"}`,
	`{"cve":"a` + "\t" + `b"}`,
	`{}`,
	`[]`,
	`null`,
	``,
}

func TestDecodeEnrichmentSeeds(t *testing.T) {
	for _, s := range enrichSeeds {
		sameAsUnmarshal(t, []byte(s))
	}
}

// TestDecodeEnrichmentFeeds decodes every record the real KEV catalog
// gives, encoded as the stores write them, and checks that the fast form
// is taken for those without escapes.
func TestDecodeEnrichmentFeeds(t *testing.T) {
	dir := os.Getenv("CLAIR_SHARED")
	if dir == "" {
		t.Skip("CLAIR_SHARED is unset")
	}
	f, err := os.Open(filepath.Join(dir, "feeds/kev/known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	n, fast := 0, 0
	err = kev.New().ParseEnrichments(t.Context(), f, fi.Size(), func(e *vuln.Enrichment) error {
		// A CVSS record beside it, as the nvd feed stores one.
		e.CVSS = []vuln.CVSS{{Source: vuln.CVSSSourceNVD, Version: "3.1", Vector: "CVSS:3.1/AV:N", Score: 9.8, Severity: "CRITICAL",
			Data: json.RawMessage(`{"version":"3.1","baseScore":9.8}`)}}
		// feedwrite.EncodeEnrichment's encoding (a cycle away).
		rec, err := json.Marshal(e)
		if err != nil {
			return err
		}
		sameAsUnmarshal(t, rec)
		n++
		d := enrichDecoder{b: rec}
		if d.enrichment(&vuln.Enrichment{}) && d.i == len(rec) {
			fast++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || fast == 0 {
		t.Fatalf("%d records, %d read without json.Unmarshal", n, fast)
	}
}

func FuzzDecodeEnrichment(f *testing.F) {
	for _, s := range enrichSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		sameAsUnmarshal(t, rec)
	})
}
