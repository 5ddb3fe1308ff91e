package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/version"
	_ "github.com/openclair/clair/version/pep440"
	_ "github.com/openclair/clair/version/semver"
	"github.com/openclair/clair/vuln"
)

// exportAdvisories parses one whole real export and returns its advisories
// by key, and each record's own advisories (before merging) by key, in zip
// order.
func exportAdvisories(t *testing.T, eco string) (merged map[string]*vuln.Advisory, perRecord map[string][]*vuln.Advisory) {
	t.Helper()
	if testing.Short() || raceEnabled {
		t.Skip("short or race: the whole export takes minutes under the race detector")
	}
	b, err := os.ReadFile(filepath.Join(fullData(), eco+".zip"))
	if err != nil {
		t.Skipf("no %s export at %s: this test needs ../shared/testdata (CI has it)", eco, fullData())
	}
	snap := tarOf(t, []string{eco}, map[string][]byte{eco: b})
	merged = map[string]*vuln.Advisory{}
	for _, a := range parse(t, snap) {
		merged[key(a)] = a
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := lookupEcosystem(eco)
	perRecord = map[string][]*vuln.Advisory{}
	var buf bytes.Buffer
	for _, f := range zr.File {
		if path.Ext(f.Name) != ".json" {
			continue
		}
		rb, err := readRecord(f, &buf)
		if err != nil {
			t.Fatal(err)
		}
		r, err := decode(f.Name, rb)
		if err != nil {
			t.Fatal(err)
		}
		advs, err := convert(f.Name, r, &archive{eco: e})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range advs {
			perRecord[key(a)] = append(perRecord[key(a)], a)
		}
	}
	return merged, perRecord
}

// witnesses are versions a record's own advisory affects: its explicit
// versions and the bounds its ranges include.
func witnesses(s version.Scheme, a *vuln.Advisory) []version.Version {
	var cands []string
	// The bounds, and a few of a long explicit list (checking each of
	// PYSEC's hundreds of versions against a matcher that compiles the
	// advisory per call takes minutes).
	if n := len(a.Versions); n > 4 {
		cands = append(cands, a.Versions[0], a.Versions[n/3], a.Versions[2*n/3], a.Versions[n-1])
	} else {
		cands = append(cands, a.Versions...)
	}
	for _, r := range a.Ranges {
		cands = append(cands, r.Introduced, r.LastAffected)
	}
	var out []version.Version
	for _, c := range cands {
		if c == "" {
			continue
		}
		v, err := s.Parse(c)
		if err != nil || !match.Affected(v, a) {
			continue
		}
		out = append(out, v)
	}
	return out
}

func sameStatement(a, b *vuln.Advisory) bool {
	ar, av := statement(a)
	br, bv := statement(b)
	return slices.Equal(ar, br) && slices.Equal(av, bv)
}

// checkUnion checks every (package, CVE) of an export whose records
// disagree: each version any record affects is affected by the advisory
// Parse emits. It returns how many pairs disagree and how many witness
// versions only a later record affects (the first record alone stood
// before the union).
func checkUnion(t *testing.T, format string, merged map[string]*vuln.Advisory, perRecord map[string][]*vuln.Advisory) (disagree, gained int) {
	t.Helper()
	s, ok := version.Lookup(format)
	if !ok {
		t.Fatalf("no %s scheme", format)
	}
	checked := 0
	for k, recs := range perRecord {
		if len(recs) < 2 || !strings.HasPrefix(recs[0].Name, "CVE-") {
			continue
		}
		if !slices.ContainsFunc(recs[1:], func(a *vuln.Advisory) bool { return !sameStatement(recs[0], a) }) {
			continue
		}
		disagree++
		m := merged[k]
		if m == nil {
			t.Errorf("%q: records disagree but no advisory has that key", k)
			continue
		}
		for _, r := range recs {
			for _, v := range witnesses(s, r) {
				checked++
				if !match.Affected(v, m) {
					t.Errorf("%s %s %s: %s is affected by one record but not by the merged advisory (ranges %v)", m.Namespace, m.Package, m.Name, v, m.Ranges)
				}
				if !match.Affected(v, recs[0]) {
					gained++
				}
			}
		}
	}
	t.Logf("%s: %d (package, CVE) pairs whose records disagree; %d witness versions checked, %d of them affected only through a later record", format, disagree, checked, gained)
	return disagree, gained
}

// TestUnionAllExports runs the same check over every other whole export
// the machine has (Go, npm, Maven, RubyGems, crates.io, NuGet).
func TestUnionAllExports(t *testing.T) {
	for _, e := range Ecosystems {
		if e.Distribution || e.OSV == "PyPI" {
			continue
		}
		if _, err := os.Stat(filepath.Join(fullData(), e.OSV+".zip")); err != nil {
			continue
		}
		t.Run(e.OSV, func(t *testing.T) {
			merged, perRecord := exportAdvisories(t, e.OSV)
			checkUnion(t, e.VersionFormat, merged, perRecord)
		})
	}
}

// TestUnionPyPI checks, over the whole real PyPI export, every (package,
// CVE) whose records disagree: each version any of the records affects is
// affected by the one advisory Parse emits. Before the union, the first
// record's ranges alone stood (paramiko 2.8.1 was not affected by
// CVE-2022-24302).
func TestUnionPyPI(t *testing.T) {
	merged, perRecord := exportAdvisories(t, "PyPI")
	disagree, gained := checkUnion(t, "pep440", merged, perRecord)
	if disagree < 100 || gained == 0 {
		t.Errorf("%d disagreeing pairs, %d versions gained by the union: the export should have hundreds", disagree, gained)
	}

	// The named case: GHSA-f8q4-jwww-x3wv lists 2.9.0–2.9.3 and
	// 2.10.0–2.10.1, PYSEC-2022-166 everything before 2.9.3.
	s, _ := version.Lookup("pep440")
	a := merged[key(&vuln.Advisory{Namespace: "pypi", Package: "paramiko", Name: "CVE-2022-24302"})]
	if a == nil {
		t.Fatal("no pypi paramiko CVE-2022-24302")
	}
	for _, c := range []struct {
		v     string
		hit   bool
		fixed string
	}{{"2.8.1", true, "2.9.3"}, {"2.9.1", true, "2.9.3"}, {"2.10.0", true, "2.10.1"}, {"2.9.3", false, ""}, {"2.10.1", false, ""}} {
		v, err := s.Parse(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := match.Affected(v, a); got != c.hit {
			t.Errorf("paramiko %s affected by CVE-2022-24302 = %v, want %v (ranges %v)", c.v, got, c.hit, a.Ranges)
		}
		if c.hit && !slices.ContainsFunc(a.Ranges, func(r vuln.Range) bool { return r.Fixed == c.fixed }) {
			t.Errorf("paramiko: no range fixed in %s for %s (ranges %v)", c.fixed, c.v, a.Ranges)
		}
	}
	if !slices.Contains(a.Aliases, "GHSA-f8q4-jwww-x3wv") || !slices.Contains(a.Aliases, "PYSEC-2022-166") {
		t.Errorf("paramiko CVE-2022-24302 aliases %v: want both records", a.Aliases)
	}

	// Through the matcher and a real store: one report entry per
	// vulnerability and package, the fix of the range each version is in.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.ReplaceFeed(ctx, Name, "test", func(emit func(*vuln.Advisory) error) error {
		cp := *a
		cp.Feed = Name
		return emit(&cp)
	})
	if err != nil {
		t.Fatal(err)
	}
	ir := &vuln.IndexReport{ManifestHash: "sha256:" + strings.Repeat("0", 64), Packages: map[string]*vuln.Package{
		"old": {ID: "old", Name: "paramiko", Version: "2.8.1", Ecosystem: "pypi"},
		"new": {ID: "new", Name: "Paramiko", Version: "2.10.0", Ecosystem: "pypi"},
		"ok":  {ID: "ok", Name: "paramiko", Version: "2.10.1", Ecosystem: "pypi"},
	}}
	vr, err := (&match.Matcher{Store: st}).Match(ctx, ir)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"old": "2.9.3", "new": "2.10.1", "ok": ""} {
		ids := vr.PackageVulnerabilities[id]
		if want == "" {
			if len(ids) != 0 {
				t.Errorf("paramiko %s: %d findings, want none", ir.Packages[id].Version, len(ids))
			}
			continue
		}
		if len(ids) != 1 {
			t.Errorf("paramiko %s: %d findings, want one", ir.Packages[id].Version, len(ids))
			continue
		}
		if v := vr.Vulnerabilities[ids[0]]; v.Name != "CVE-2022-24302" || v.FixedInVersion != want {
			t.Errorf("paramiko %s: %s fixed in %q, want CVE-2022-24302 fixed in %s", ir.Packages[id].Version, v.Name, v.FixedInVersion, want)
		}
	}
}

// TestGoDockerNonCanonical: GHSA-v23v-6jw2-98fq (CVE-2024-41110, CVSS 10)
// writes github.com/docker/docker's versions as the project does
// ("19.03.0"), which is not a Go module version; the binary of a real
// program built with docker v20.10.7 says v20.10.7+incompatible. GO-2024-3005
// about the same CVE says 20.10.0–25.0.6 where GHSA ends one range at
// 23.0.15: the union holds both.
func TestGoDockerNonCanonical(t *testing.T) {
	merged, _ := exportAdvisories(t, "Go")
	a := merged[key(&vuln.Advisory{Namespace: "go", Package: "github.com/docker/docker", Name: "CVE-2024-41110"})]
	if a == nil {
		t.Fatal("no go github.com/docker/docker CVE-2024-41110")
	}
	s, _ := version.Lookup("semver")
	for _, r := range a.Ranges {
		for _, b := range []string{r.Introduced, r.Fixed, r.LastAffected} {
			if _, err := s.Parse(b); b != "" && err != nil {
				t.Errorf("range bound %q does not parse: %v", b, err)
			}
		}
	}
	for _, c := range []struct {
		v   string
		hit bool
	}{{"v19.3.5+incompatible", true}, {"v20.10.7+incompatible", true}, {"v18.9.0+incompatible", false}, {"v25.0.6+incompatible", false}, {"v26.1.4+incompatible", true}, {"v26.1.5+incompatible", false}} {
		v, err := s.Parse(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := match.Affected(v, a); got != c.hit {
			t.Errorf("docker %s affected by CVE-2024-41110 = %v, want %v (ranges %v)", c.v, got, c.hit, a.Ranges)
		}
	}
}

func TestGoVersion(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"1.2.3":                "v1.2.3",
		"v1.2.3":               "v1.2.3",
		"19.03.0":              "v19.3.0",
		"17.06.0-ce":           "v17.6.0-ce",
		"20.10.0+incompatible": "v20.10.0+incompatible",
		"0.0.0-20210101000000-abcdefabcdef+incompatible": "v0.0.0-20210101000000-abcdefabcdef+incompatible",
		"main-gha.27122": "vmain-gha.27122",
	} {
		if got := goVersion(in); got != want {
			t.Errorf("goVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
