package osv

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// distroZip zips the real records of testdata/records/<dir> under their
// record ids ("RLSA-2021:3891.json"), as osv.dev's Rocky Linux and
// AlmaLinux exports name them.
func distroZip(t testing.TB, dir string) []byte {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", "records", dir))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", "records", dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
			t.Fatalf("%s: id %q, %v", e.Name(), r.ID, err)
		}
		files[r.ID+".json"] = b
	}
	return zipOf(t, files)
}

// distroSnapshot is a snapshot as Fetch writes it with the language
// testdata and the real Rocky Linux and AlmaLinux records.
func distroSnapshot(t testing.TB) []byte {
	t.Helper()
	ecos := []string{"Go", "PyPI", "npm", "Rocky Linux", "AlmaLinux"}
	zips := map[string][]byte{"Rocky Linux": distroZip(t, "rocky"), "AlmaLinux": distroZip(t, "alma")}
	for _, e := range ecos[:3] {
		zips[e] = testdataZip(t, e)
	}
	return tarOf(t, ecos, zips)
}

// TestDistroRecords checks the advisories of the real Rocky Linux and
// AlmaLinux records against what the files say (testdata/records/rocky,
// testdata/records/alma).
func TestDistroRecords(t *testing.T) {
	advs := parse(t, distroSnapshot(t))
	counts := map[string]int{}
	for _, a := range advs {
		counts[a.Namespace]++
	}
	t.Logf("advisories per namespace: %v", counts)
	// Rocky: RLSA-2021:3891 (1 entry, Rocky Linux:8), RLSA-2023:3220 (1,
	// Rocky Linux:8), RLSA-2024:3671 (3, Rocky Linux:9). Alma: ALSA-2023:4520
	// (1, AlmaLinux:8), ALSA-2023:5259 (2, :8), ALSA-2022:8194 (3, :9),
	// ALSA-2024:2433 (10, :9); ALBA-2021:4378 (7 krb5 packages, :8) is a bug
	// fix erratum without a CVE and gives none.
	for ns, want := range map[string]int{"rocky:8": 2, "rocky:9": 3, "alma:8": 3, "alma:9": 13} {
		if counts[ns] != want {
			t.Errorf("%s: %d advisories, want %d", ns, counts[ns], want)
		}
	}
	for _, a := range advs {
		if a.Package == "krb5-libs" || a.Name == "ALBA-2021:4378" {
			t.Errorf("bug fix erratum emitted: %+v", a)
		}
	}

	type want struct {
		ns, pkg, name, fixed, module, sev string
		norm                              vuln.Severity
		aliases                           []string
	}
	for _, w := range []want{
		// Ten related CVEs: named by the erratum. The summary's
		// "Important" wins over the record's CVSS vector. Epoch 1 kept.
		{"rocky:8", "java-11-openjdk", "RLSA-2021:3891", "1:11.0.13.0.8-1.el8_4", "", "Important", vuln.High,
			[]string{"CVE-2021-35550", "CVE-2021-35556", "CVE-2021-35559", "CVE-2021-35561", "CVE-2021-35564",
				"CVE-2021-35565", "CVE-2021-35567", "CVE-2021-35578", "CVE-2021-35586", "CVE-2021-35603"}},
		{"rocky:8", "firefox", "RLSA-2023:3220", "0:102.11.0-2.el8_7", "", "Important", vuln.High,
			[]string{"CVE-2023-32205", "CVE-2023-32206", "CVE-2023-32207", "CVE-2023-32211", "CVE-2023-32212",
				"CVE-2023-32213", "CVE-2023-32215"}},
		// A module stream's erratum: "Moderate: ruby:3.3 security, …".
		{"rocky:9", "ruby", "RLSA-2024:3671", "0:3.3.1-2.module+el9.4.0+20787+4c237fd3", "ruby:3.3", "Moderate", vuln.Medium,
			[]string{"CVE-2024-27280", "CVE-2024-27281", "CVE-2024-27282"}},
		{"rocky:9", "rubygem-pg", "RLSA-2024:3671", "0:1.5.4-1.module+el9.4.0+20787+4c237fd3", "ruby:3.3", "Moderate", vuln.Medium,
			[]string{"CVE-2024-27280", "CVE-2024-27281", "CVE-2024-27282"}},
		// One related CVE: it names the advisory. No epoch written: 0.
		{"alma:8", "python3-requests", "CVE-2023-32681", "2.20.0-3.el8_8", "", "Moderate", vuln.Medium,
			[]string{"ALSA-2023:4520"}},
		{"alma:8", "mariadb-server", "ALSA-2023:5259", "3:10.3.39-1.module_el8.8.0+3609+204d4ab0", "mariadb:10.3", "Moderate", vuln.Medium,
			[]string{"CVE-2022-32084", "CVE-2022-32091"}},
		{"alma:9", "libtiff-tools", "ALSA-2022:8194", "4.4.0-2.el9", "", "Moderate", vuln.Medium,
			[]string{"CVE-2022-0561", "CVE-2022-0562", "CVE-2022-0865", "CVE-2022-0924", "CVE-2022-1355",
				"CVE-2022-22844", "CVE-2022-0891", "CVE-2022-0908", "CVE-2022-0909", "CVE-2022-1354"}},
		{"alma:9", "avahi-libs", "ALSA-2024:2433", "0.8-20.el9", "", "Moderate", vuln.Medium,
			[]string{"CVE-2023-38469", "CVE-2023-38470", "CVE-2023-38471", "CVE-2023-38472", "CVE-2023-38473"}},
	} {
		a := one(t, advs, w.ns, w.pkg, w.name)
		if a.VersionFormat != "rpm" || a.State != vuln.StateAffected || a.FixedIn != w.fixed ||
			!reflect.DeepEqual(a.Ranges, []vuln.Range{{Fixed: w.fixed}}) || a.Module != w.module {
			t.Errorf("%s %s: %+v", w.ns, w.pkg, a)
		}
		if a.Severity != w.sev || a.NormalizedSeverity != w.norm {
			t.Errorf("%s %s: severity %q %v, want %q %v", w.ns, w.pkg, a.Severity, a.NormalizedSeverity, w.sev, w.norm)
		}
		if !reflect.DeepEqual(a.Aliases, w.aliases) {
			t.Errorf("%s %s: aliases %q, want %q", w.ns, w.pkg, a.Aliases, w.aliases)
		}
		if a.Issued.IsZero() || a.Description == "" || len(a.Links) == 0 {
			t.Errorf("%s %s: issued %v, %d links", w.ns, w.pkg, a.Issued, len(a.Links))
		}
	}

	// The language records are as before: CVE-2023-32681 of PyPI requests
	// is not joined by AlmaLinux's python3-requests erratum of that CVE.
	req := one(t, advs, "pypi", "requests", "CVE-2023-32681")
	if !reflect.DeepEqual(req.Aliases, []string{"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"}) {
		t.Errorf("requests aliases %q", req.Aliases)
	}
	one(t, advs, "go", "golang.org/x/net", "CVE-2022-41723")
}

// TestDistroNoMerge: two errata naming the same CVE for the same package
// both stay (each is a fix of its own), a record listed twice is read once,
// and language-style alias links are not followed.
func TestDistroNoMerge(t *testing.T) {
	rng := func(fixed string) string {
		return `"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"` + fixed + `"}]}]`
	}
	relRec := func(id, related, eco, pkg, fixed string) []byte {
		return []byte(`{"id":"` + id + `","summary":"Important: x security update","related":["` + related + `"],"affected":[` + aff(eco, pkg, rng(fixed)) + `]}`)
	}
	z := zipOf(t, map[string][]byte{
		"RLSA-1.json":   relRec("RLSA-1", "CVE-1", "Rocky Linux:9", "p", "1.0-1.el9"),
		"RLSA-2.json":   relRec("RLSA-2", "CVE-1", "Rocky Linux:9", "p", "1.0-5.el9"),
		"RLSA-3.json":   []byte(`{"id":"RLSA-3","aliases":["RLSA-1"],"affected":[` + aff("Rocky Linux:9", "p", rng("2.0-1.el9")) + `]}`),
		"x/RLSA-2.json": relRec("RLSA-2", "CVE-1", "Rocky Linux:9", "p", "1.0-5.el9"),
		"RLSA-4.json":   relRec("RLSA-4", "CVE-4", "Rocky Linux", "p", "1.0-1.el9"),     // no release
		"RLSA-5.json":   relRec("RLSA-5", "CVE-5", "Rocky Linux:el9", "p", "1.0-1.el9"), // not a number
		"RLSA-6.json":   relRec("RLSA-6", "CVE-6", "Rocky Linux:8.10", "p", "1.0-1.el8"),
	})
	advs := parse(t, tarOf(t, []string{"Rocky Linux"}, map[string][]byte{"Rocky Linux": z}))
	var got []string
	for _, a := range advs {
		got = append(got, a.Namespace+" "+a.Name+" "+a.FixedIn)
	}
	sort.Strings(got)
	want := []string{"rocky:8 CVE-6 1.0-1.el8", "rocky:9 CVE-1 1.0-1.el9", "rocky:9 CVE-1 1.0-5.el9", "rocky:9 RLSA-3 2.0-1.el9"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestModuleOf(t *testing.T) {
	for in, want := range map[string]string{
		"Moderate: ruby:3.3 security, bug fix, and enhancement update":     "ruby:3.3",
		"Moderate: mariadb:10.3 security, bug fix, and enhancement update": "mariadb:10.3",
		"Important: container-tools:rhel8 security update":                 "container-tools:rhel8",
		"Important: firefox security update":                               "",
		"Moderate: nodejs:18 and nodejs:20 security update":                "",
		"Moderate: postgresql:15 security update (postgresql:15)":          "postgresql:15",
		"krb5 bug fix and enhancement update":                              "",
		"Important: see https://example.com/x":                             "",
	} {
		if got := moduleOf(in); got != want {
			t.Errorf("moduleOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDistroMatch loads the advisories of the real records into a SQLite
// store and matches hand-made index reports of a Rocky Linux 9.3 and an
// AlmaLinux 9 image: a package older than the erratum's fix is found, the
// fixed build and newer ones are not, and a module stream's erratum applies
// to that stream's packages only.
func TestDistroMatch(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap := distroSnapshot(t)
	f := New()
	_, err = st.ReplaceFeed(ctx, f.Name(), "test", func(emit func(*vuln.Advisory) error) error {
		return f.Parse(ctx, bytes.NewReader(snap), int64(len(snap)), func(a *vuln.Advisory) error {
			a.Feed = f.Name()
			return emit(a)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	m := &match.Matcher{Store: st}

	type pkg struct{ name, version, module, source string }
	report := func(d *vuln.Distribution, pkgs ...pkg) *vuln.IndexReport {
		ir := &vuln.IndexReport{
			ManifestHash:  "sha256:test",
			State:         vuln.IndexFinished,
			Success:       true,
			Packages:      map[string]*vuln.Package{},
			Distributions: map[string]*vuln.Distribution{"1": d},
			Environments:  map[string][]*vuln.Environment{},
		}
		for i, p := range pkgs {
			id := string(rune('a' + i))
			vp := &vuln.Package{ID: id, Name: p.name, Version: p.version, Kind: vuln.KindBinary, Arch: "x86_64", Module: p.module, Ecosystem: "rpm"}
			if p.source != "" {
				vp.Source = &vuln.Package{Name: p.source, Version: p.version, Kind: vuln.KindSource}
			}
			ir.Packages[id] = vp
			ir.Environments[id] = []*vuln.Environment{{PackageDB: "var/lib/rpm", DistributionID: "1"}}
		}
		return ir
	}
	findings := func(ir *vuln.IndexReport) map[string][]string {
		vr, err := m.Match(ctx, ir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for id, vids := range vr.PackageVulnerabilities {
			p := ir.Packages[id]
			for _, vid := range vids {
				v := vr.Vulnerabilities[vid]
				out[p.Name+" "+p.Version] = append(out[p.Name+" "+p.Version], v.Name+" fixed "+v.FixedInVersion)
			}
		}
		return out
	}

	const mod = ".module+el9.4.0+20787+4c237fd3"
	rocky := report(&vuln.Distribution{ID: "1", DID: "rocky", VersionID: "9.3", Name: "Rocky Linux"},
		pkg{"ruby", "3.3.0-1.module+el9.3.0+20000+1234abcd", "ruby:3.3", "ruby"},                     // older: affected
		pkg{"ruby-libs", "3.3.0-1.module+el9.3.0+20000+1234abcd", "ruby:3.3", "ruby"},                // through its source rpm
		pkg{"rubygem-pg", "1.5.4-1" + mod, "ruby:3.3", "rubygem-pg"},                                 // the fixed build
		pkg{"rubygem-mysql2", "0.5.6-1.module+el9.5.0+30000+aaaaaaaa", "ruby:3.3", "rubygem-mysql2"}, // newer
		pkg{"ruby", "3.0.4-160.el9_0", "", "ruby"},                                                   // not from the stream
	)
	// Two packages named ruby: tell them apart by version.
	got := findings(rocky)
	wantRuby := []string{"RLSA-2024:3671 fixed 0:3.3.1-2" + mod}
	for _, k := range []string{"ruby 3.3.0-1.module+el9.3.0+20000+1234abcd", "ruby-libs 3.3.0-1.module+el9.3.0+20000+1234abcd"} {
		if !slices.Equal(got[k], wantRuby) {
			t.Errorf("%s: %q, want %q", k, got[k], wantRuby)
		}
	}
	if len(got) != 2 {
		t.Errorf("rocky 9.3 findings %q, want the two older ruby:3.3 packages only", got)
	}

	alma := report(&vuln.Distribution{ID: "1", DID: "almalinux", VersionID: "9.4", Name: "AlmaLinux"},
		pkg{"avahi-libs", "0.8-12.el9", "", "avahi"},                   // older: affected
		pkg{"avahi-tools", "0.8-20.el9", "", "avahi"},                  // the fix
		pkg{"libtiff", "4.4.0-2.el9", "", "libtiff"},                   // the fix
		pkg{"libtiff-devel", "4.0.9-20.el8", "", "libtiff"},            // older (an el8 build)
		pkg{"python3-requests", "2.20.0-2.el8", "", "python-requests"}, // older, but the erratum is for AlmaLinux 8
	)
	got = findings(alma)
	want := map[string][]string{
		"avahi-libs 0.8-12.el9":      {"ALSA-2024:2433 fixed 0.8-20.el9"},
		"libtiff-devel 4.0.9-20.el8": {"ALSA-2022:8194 fixed 4.4.0-2.el9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alma 9.4 findings %q, want %q", got, want)
	}
	alma8 := report(&vuln.Distribution{ID: "1", DID: "almalinux", VersionID: "8.8"},
		pkg{"python3-requests", "2.20.0-2.el8", "", "python-requests"},
		pkg{"mariadb-server", "3:10.3.35-1.module_el8.6.0+2867+72759d2f", "mariadb:10.3", "mariadb"},
		pkg{"mariadb", "10.3.39-1.module_el8.8.0+3609+204d4ab0", "mariadb:10.3", "mariadb"}, // epoch 0 < 3: affected
	)
	got = findings(alma8)
	want = map[string][]string{
		"python3-requests 2.20.0-2.el8":                           {"CVE-2023-32681 fixed 2.20.0-3.el8_8"},
		"mariadb-server 3:10.3.35-1.module_el8.6.0+2867+72759d2f": {"ALSA-2023:5259 fixed 3:10.3.39-1.module_el8.8.0+3609+204d4ab0"},
		"mariadb 10.3.39-1.module_el8.8.0+3609+204d4ab0":          {"ALSA-2023:5259 fixed 3:10.3.39-1.module_el8.8.0+3609+204d4ab0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alma 8.8 findings %q, want %q", got, want)
	}
}

// TestDistroFetch fetches the distributions' zips over HTTP (the space of
// "Rocky Linux" escaped in the URL) and from both local layouts.
func TestDistroFetch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, b := range map[string][]byte{"Rocky Linux.zip": distroZip(t, "rocky"), "AlmaLinux.zip": distroZip(t, "alma")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := &server{dir: dir, n: map[string]int{}}
	var uris []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		uris = append(uris, r.RequestURI)
		s.mu.Unlock()
		s.ServeHTTP(w, r)
	}))
	defer ts.Close()
	check := func(snap []byte) {
		t.Helper()
		advs := parse(t, snap)
		one(t, advs, "rocky:9", "ruby", "RLSA-2024:3671")
		one(t, advs, "alma:8", "python3-requests", "CVE-2023-32681")
	}
	var buf bytes.Buffer
	fp, err := New().Fetch(ctx, ts.Client(), ts.URL, "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	check(buf.Bytes())
	if !slices.Contains(uris, "/Rocky%20Linux/all.zip") || !slices.Contains(uris, "/AlmaLinux/all.zip") {
		t.Errorf("requests %q", uris)
	}
	var fps map[string]string
	if err := json.Unmarshal([]byte(fp), &fps); err != nil || len(fps) != 2 || fps["Rocky Linux"] == "" || fps["AlmaLinux"] == "" {
		t.Errorf("fingerprint %s: %v", fp, err)
	}

	// Local trees: <root>/<Ecosystem>.zip and <root>/<Ecosystem>/all.zip.
	if err := os.MkdirAll(filepath.Join(dir, "AlmaLinux"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "AlmaLinux.zip"), filepath.Join(dir, "AlmaLinux", "all.zip")); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if _, err := New().Fetch(ctx, nil, dir, "", &buf); err != nil {
		t.Fatal(err)
	}
	check(buf.Bytes())
}
