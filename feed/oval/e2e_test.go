package oval_test

// End to end: real rpm databases and os-release files in an image, indexed
// with the registered scanners, matched against OVAL feeds stored in
// SQLite. The staged feed samples (vunnel's truncated Mariner and SUSE
// files) cover few packages of the staged rpmdbs; what they do cover is
// asserted, and where they cover nothing that is said (see each test).

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/openclair/clair/feed/oval"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/distro"
	"github.com/openclair/clair/scanner/rpm"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

func shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "testdata", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data not available: %v", err)
	}
	return p
}

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tarOf builds a tar of the files, sorted by name.
func tarOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[n])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// oneLayer is an image of one layer holding the files.
func oneLayer(t testing.TB, files map[string][]byte) *image.Image {
	blob := tarOf(t, files)
	sum := sha256.Sum256(blob)
	d := "sha256:" + hex.EncodeToString(sum[:])
	l := image.NewLayer(d, d, int64(len(blob)), func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	})
	return &image.Image{Ref: "test", ManifestDigest: d, Layers: []*image.Layer{l}}
}

type env struct {
	st *sqlite.Store
	ix *index.Indexer
	m  *match.Matcher
}

func newEnv(t *testing.T) *env {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{
		st: st,
		ix: &index.Indexer{Store: st, Scanners: []scanner.Scanner{&distro.Scanner{}, &rpm.Scanner{}}},
		m:  &match.Matcher{Store: st},
	}
}

// load stores a feed snapshot (a tar of documents) as the updater would.
func (e *env) load(t *testing.T, d *oval.Distro, docs map[string][]byte) int {
	t.Helper()
	snap := tarOf(t, docs)
	f := oval.New(d)
	op, err := e.st.ReplaceFeed(context.Background(), f.Name(), "test", func(emit func(*vuln.Advisory) error) error {
		return f.Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), emit)
	})
	if err != nil {
		t.Fatal(err)
	}
	return op.Advisories
}

// finding is one (package, vulnerability, fixed version) of a report.
type finding struct{ pkg, name, fixed, state string }

func (e *env) scan(t *testing.T, img *image.Image) (*vuln.IndexReport, map[finding]bool) {
	t.Helper()
	ctx := context.Background()
	ir, err := e.ix.Index(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	vr, err := e.m.Match(ctx, ir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[finding]bool{}
	for pid, vids := range vr.PackageVulnerabilities {
		for _, id := range vids {
			v := vr.Vulnerabilities[id]
			out[finding{vr.Packages[pid].Name, v.Name, v.FixedInVersion, v.State}] = true
		}
	}
	return ir, out
}

func namespaces(ir *vuln.IndexReport) []string {
	var out []string
	for _, d := range ir.Distributions {
		out = append(out, vuln.Namespace(d))
	}
	sort.Strings(out)
	return out
}

func pkgVersion(ir *vuln.IndexReport, name string) string {
	for _, p := range ir.Packages {
		if p.Name == name {
			return p.Version
		}
	}
	return ""
}

// TestMariner: the CBL-Mariner 2.0 rpmdb (SQLite, 129 packages) with
// Mariner 2.0's os-release, against vunnel's real (truncated) Mariner 2.0
// OVAL. Of its five definitions only glibc's names an installed package,
// and Microsoft marks it "Not Applicable": nothing may be reported.
func TestMariner(t *testing.T) {
	e := newEnv(t)
	n := e.load(t, oval.Mariner, map[string][]byte{
		"cbl-mariner-2.0-oval.xml": read(t, shared(t, "feeds/samples-vunnel/mariner/mariner-truncated-2.0-oval.xml")),
	})
	if n != 5 {
		t.Errorf("%d advisories stored, want 5 (golang, glibc, 2×mysql, bind)", n)
	}
	img := oneLayer(t, map[string][]byte{
		"etc/os-release":           read(t, shared(t, "pkgdb/os-release/trivy/release/mariner-2.0")),
		"var/lib/rpm/rpmdb.sqlite": read(t, shared(t, "pkgdb/rpm/cbl-mariner-2.0-rpmdb.sqlite")),
	})
	ir, found := e.scan(t, img)
	if got := namespaces(ir); len(got) != 1 || got[0] != "mariner:2.0" {
		t.Fatalf("namespaces %v", got)
	}
	if len(ir.Packages) < 100 {
		t.Fatalf("%d packages indexed", len(ir.Packages))
	}
	// The feed file says: CVE-2023-0687, glibc "installed with version
	// 2.35-4 or earlier", <patchable>Not Applicable</patchable>. The
	// image has glibc 2.34-2.cm2, inside that bound.
	if v := pkgVersion(ir, "glibc"); v != "2.34-2.cm2" {
		t.Fatalf("glibc %q", v)
	}
	if len(found) != 0 {
		t.Errorf("findings %v, want none", found)
	}

	// The same definitions with the state Microsoft gives patchable
	// definitions: glibc 2.34-2.cm2 is then reported, unfixed (the bound
	// is "or earlier", not a fix), which shows the empty result above
	// comes from "Not Applicable" and not from a namespace or name
	// mismatch.
	doc := strings.Replace(string(read(t, shared(t, "feeds/samples-vunnel/mariner/mariner-truncated-2.0-oval.xml"))),
		"<patchable>Not Applicable</patchable>", "<patchable>false</patchable>", 1)
	e.load(t, oval.Mariner, map[string][]byte{"cbl-mariner-2.0-oval.xml": []byte(doc)})
	_, found = e.scan(t, img)
	want := map[finding]bool{
		{"glibc", "CVE-2023-0687", "", "unfixed"}: true,
	}
	if !equal(found, want) {
		t.Errorf("findings %v, want %v", found, want)
	}
}

// TestSLES: the SLE 15 BCI rpmdb (NDB) with SLES 15 SP3's os-release
// (the rpmdb holds sles-release 15.3), against vunnel's real (truncated)
// SUSE OVAL. Its definitions speak of kernel-default, krb5 (with a
// malformed evr operation) and python3-cryptography in SLES 15 and 15 SP1;
// none is installed in the BCI image, and none is for 15 SP3: nothing may
// be reported, and the image's namespace must be sles:15.3.
func TestSLES(t *testing.T) {
	e := newEnv(t)
	if n := e.load(t, oval.SUSE, map[string][]byte{
		"suse.linux.enterprise.server.15.xml": read(t, shared(t, "feeds/samples-vunnel/sles/suse_truncated.xml")),
	}); n == 0 {
		t.Fatal("no advisories stored")
	}
	img := oneLayer(t, map[string][]byte{
		"etc/os-release":                   read(t, shared(t, "pkgdb/os-release/trivy/release/sles")),
		"usr/lib/sysimage/rpm/Packages.db": read(t, shared(t, "pkgdb/rpm/sle15-bci-Packages.db")),
	})
	ir, found := e.scan(t, img)
	if got := namespaces(ir); len(got) != 1 || got[0] != "sles:15.3" {
		t.Fatalf("namespaces %v", got)
	}
	if v := pkgVersion(ir, "sles-release"); v != "15.3-55.4.1" {
		t.Errorf("sles-release %q", v)
	}
	if len(found) != 0 {
		t.Errorf("findings %v, want none", found)
	}
}

func equal(a, b map[finding]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestPhotonTrivyPackages matches the package list trivy found in a real
// Photon OS 3.0 image (its fanal golden: names, versions and source rpms,
// no rpmdb is staged for Photon) against the complete Photon 3 OVAL file.
// Every expected finding was checked by hand in
// com.vmware.phsa-photon3.xml: the installed source version is below the
// definition's "is earlier than" version.
func TestPhotonTrivyPackages(t *testing.T) {
	e := newEnv(t)
	if n := e.load(t, oval.Photon, map[string][]byte{
		"com.vmware.phsa-photon3.xml": read(t, shared(t, "feeds/photon/com.vmware.phsa-photon3.xml")),
	}); n != 2467 {
		t.Errorf("%d advisories stored, want 2467 (Σ CVEs × packages over the 222 definitions)", n)
	}
	var golden []struct {
		Name, Version, Release, Arch    string
		SrcName, SrcVersion, SrcRelease string
		SrcEpoch, Epoch                 int
	}
	if err := json.Unmarshal(read(t, shared(t, "peer-results/trivy/fanal-package-goldens/photon-30.json.golden")), &golden); err != nil {
		t.Fatal(err)
	}
	ir := &vuln.IndexReport{
		ManifestHash:  "sha256:photon-30",
		Packages:      map[string]*vuln.Package{},
		Distributions: map[string]*vuln.Distribution{"d": {ID: "d", DID: "photon", VersionID: "3.0"}},
		Environments:  map[string][]*vuln.Environment{},
	}
	for i, g := range golden {
		if g.SrcName == "" { // gpg-pubkey
			continue
		}
		id := string(rune('a'+i/26)) + string(rune('a'+i%26))
		ir.Packages[id] = &vuln.Package{
			ID: id, Name: g.Name, Version: g.Version + "-" + g.Release, Arch: g.Arch, Kind: vuln.KindBinary, Ecosystem: "rpm",
			Source: &vuln.Package{Name: g.SrcName, Version: g.SrcVersion + "-" + g.SrcRelease, Kind: vuln.KindSource},
		}
		ir.Environments[id] = []*vuln.Environment{{PackageDB: "var/lib/rpm", DistributionID: "d"}}
	}
	vr, err := e.m.Match(context.Background(), ir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[[3]string]bool{} // source, CVE, fixed
	for pid, vids := range vr.PackageVulnerabilities {
		for _, id := range vids {
			v := vr.Vulnerabilities[id]
			got[[3]string{vr.Packages[pid].SourceName(), v.Name, v.FixedInVersion}] = true
		}
	}
	want := map[[3]string]bool{
		{"bash", "CVE-2019-18276", "4.4.18-2.ph3"}:     true, // bash 4.4.18-1.ph3
		{"curl", "CVE-2019-5481", "7.61.1-5.ph3"}:      true, // curl 7.61.1-4.ph3
		{"curl", "CVE-2019-5482", "7.61.1-5.ph3"}:      true,
		{"e2fsprogs", "CVE-2019-5094", "1.44.3-3.ph3"}: true, // e2fsprogs 1.44.3-2.ph3
		{"e2fsprogs", "CVE-2019-5188", "1.45.5-1.ph3"}: true,
		{"libsolv", "CVE-2019-20387", "0.6.35-2.ph3"}:  true, // libsolv 0.6.26-5.ph3
		{"libssh2", "CVE-2019-17498", "1.9.0-2.ph3"}:   true, // libssh2 1.9.0-1.ph3
		{"openssl", "CVE-2019-1547", "1.0.2t-1.ph3"}:   true, // openssl 1.0.2s-1.ph3
		{"openssl", "CVE-2019-1563", "1.0.2t-1.ph3"}:   true,
		{"openssl", "CVE-2019-1551", "1.0.2u-1.ph3"}:   true,
		{"sqlite", "CVE-2019-16168", "3.27.2-5.ph3"}:   true, // sqlite 3.27.2-3.ph3
		{"sqlite", "CVE-2019-19244", "3.31.1-1.ph3"}:   true,
		{"sqlite", "CVE-2019-19923", "3.31.1-1.ph3"}:   true,
		{"sqlite", "CVE-2019-19926", "3.31.1-1.ph3"}:   true,
		{"sqlite", "CVE-2019-19959", "3.31.1-1.ph3"}:   true,
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing %v", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("unexpected %v", k)
		}
	}
	// Fixed at exactly the installed version: not reported.
	for _, k := range [][2]string{{"curl", "CVE-2019-5436"}, {"sqlite", "CVE-2019-8457"}, {"libssh2", "CVE-2019-13115"}, {"nss", "CVE-2018-12404"}} {
		for g := range got {
			if g[0] == k[0] && g[1] == k[1] {
				t.Errorf("%v reported", k)
			}
		}
	}
}
