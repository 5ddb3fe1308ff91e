package osv

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

// FuzzParse feeds one record, in a zip in a tar as Fetch writes it, through
// Parse: it must not panic, and what it emits must be well-formed.
func FuzzParse(f *testing.F) {
	for _, eco := range []string{"Go", "PyPI", "npm"} {
		dir := filepath.Join("testdata", "records", eco)
		ents, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(eco, trim(f, b))
		}
	}
	// The distributions' records keep their summaries: module streams and
	// severities come from them.
	for eco, dir := range map[string]string{"Rocky Linux": "rocky", "AlmaLinux": "alma"} {
		ents, err := os.ReadDir(filepath.Join("testdata", "records", dir))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("testdata", "records", dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(eco, b)
		}
	}
	f.Add("Rocky Linux", []byte(`{"id":"RLSA-1","summary":"Low: m:1 security update","related":["CVE-1"],"affected":[`+
		aff("Rocky Linux:9", "p", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:2-3.module+el9"}]}]`)+`]}`))
	f.Add("crates.io", rec("X", []string{"CVE-1"}, aff("crates.io", "c", `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"limit":"2.0"},{"introduced":"3"}]}]`)))
	f.Add("Maven", rec("X", nil, aff("Maven", "g:a", `"versions":["1",""]`), aff("Maven", "g:a", `"versions":["1","2"]`)))
	f.Fuzz(func(t *testing.T, eco string, record []byte) {
		if strings.ContainsAny(eco, "/\x00") || eco == "" || len(eco) > 100 {
			return
		}
		z := zipOf(t, map[string][]byte{"GHSA/a.json": record, "PYSEC/b.json": record})
		snap := tarOf(t, []string{eco}, map[string][]byte{eco: z})
		seen := map[string]bool{}
		err := New().Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(a *vuln.Advisory) error {
			if a.Name == "" || a.Package == "" || a.VersionFormat == "" {
				t.Fatalf("incomplete advisory %+v", a)
			}
			e, ok := lookupEcosystem(eco)
			ns := a.Namespace
			if ok && e.Distribution {
				var rel string
				ns, rel, _ = strings.Cut(ns, ":")
				if _, ok := release(rel); !ok || strings.Contains(rel, ".") {
					t.Fatalf("namespace %q", a.Namespace)
				}
			} else if a.Module != "" {
				t.Fatalf("module %q of a language advisory", a.Module)
			}
			if !ok || ns != e.Namespace || a.VersionFormat != e.VersionFormat {
				t.Fatalf("advisory %+v from the %s zip", a, eco)
			}
			if seen[key(a)] {
				t.Fatalf("duplicate %q", key(a))
			}
			seen[key(a)] = true
			switch a.State {
			case vuln.StateAffected, vuln.StateUnfixed:
			default:
				t.Fatalf("state %q", a.State)
			}
			if len(a.Ranges) == 0 && len(a.Versions) == 0 && a.State != vuln.StateUnfixed {
				t.Fatalf("affected without ranges or versions: %+v", a)
			}
			if a.FixedIn != "" && a.State != vuln.StateAffected {
				t.Fatalf("fixed in %q but %s", a.FixedIn, a.State)
			}
			for _, al := range a.Aliases {
				if al == a.Name || al == "" {
					t.Fatalf("alias %q of %s", al, a.Name)
				}
			}
			if a.Namespace == "go" {
				for _, r := range a.Ranges {
					for _, v := range []string{r.Introduced, r.Fixed, r.LastAffected} {
						if v != "" && v[0] != 'v' {
							t.Fatalf("go version %q without v", v)
						}
					}
				}
			}
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "osv: ") {
			t.Fatalf("error without prefix: %v", err)
		}
	})
}

// trim drops the prose and long lists of a real record: small seeds keep
// the fuzzer's mutation and minimization fast.
func trim(f *testing.F, b []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		f.Fatal(err)
	}
	for _, k := range []string{"details", "summary", "references", "credits", "schema_version", "modified"} {
		delete(m, k)
	}
	if afs, ok := m["affected"].([]any); ok {
		for _, af := range afs {
			if af, ok := af.(map[string]any); ok {
				delete(af, "ecosystem_specific")
				delete(af, "database_specific")
				if vs, ok := af["versions"].([]any); ok && len(vs) > 3 {
					af["versions"] = vs[:3]
				}
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return out
}
