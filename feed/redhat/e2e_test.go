package redhat_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // writes the test image's rpmdb.sqlite

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/redhat"
	"github.com/openclair/clair/feed/repo2cpe"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/distro"
	"github.com/openclair/clair/scanner/rhel"
	"github.com/openclair/clair/scanner/rpm"
	"github.com/openclair/clair/store/sqlite"
	_ "github.com/openclair/clair/version/rpm"
	"github.com/openclair/clair/vuln"
)

// ubi9AMD64 is the catalog id of the ubi9/ubi x86_64 image of 2022-05-03
// whose rpm manifest claircore recorded.
const ubi9AMD64 = "6270e0fc80cc9b3025076e80"

// manifestRPM is one package of a Red Hat catalog rpm-manifest.
type manifestRPM struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Release   string `json:"release"`
	Arch      string `json:"architecture"`
	SRPMNEVRA string `json:"srpm_nevra"`
}

// ubi9Packages reads the rpm manifest of one image out of claircore's txtar
// of Red Hat container catalog answers.
func ubi9Packages(t *testing.T, id string) []manifestRPM {
	t.Helper()
	b, err := os.ReadFile("testdata/claircore-ubi9_ubi.txtar")
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("-- catalog.redhat.com/api/containers/v1/images/id/" + id + "/rpm-manifest --\n")
	i := bytes.Index(b, marker)
	if i < 0 {
		t.Fatalf("txtar has no rpm manifest for %s", id)
	}
	body := b[i+len(marker):]
	if j := bytes.Index(body, []byte("\n-- ")); j >= 0 {
		body = body[:j]
	}
	var man struct {
		RPMs []manifestRPM `json:"rpms"`
	}
	if err := json.Unmarshal(body, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.RPMs) == 0 {
		t.Fatal("empty rpm manifest")
	}
	return man.RPMs
}

// header builds an rpmdb header blob (rpm's lib/header.c layout: counts,
// 16-byte index entries, data) with the tags the rpm scanner reads.
func header(name, version, release, arch, sourceRPM string, epoch int) []byte {
	type entry struct {
		tag, typ uint32
		data     []byte
	}
	str := func(s string) []byte { return append([]byte(s), 0) }
	entries := []entry{
		{1000, 6, str(name)}, {1001, 6, str(version)}, {1002, 6, str(release)},
		{1022, 6, str(arch)}, {1044, 6, str(sourceRPM)},
	}
	if epoch > 0 {
		e := make([]byte, 4)
		binary.BigEndian.PutUint32(e, uint32(epoch))
		entries = append([]entry{{1003, 4, e}}, entries...)
	}
	var index, data bytes.Buffer
	for _, e := range entries {
		for e.typ == 4 && data.Len()%4 != 0 {
			data.WriteByte(0)
		}
		for _, v := range []uint32{e.tag, e.typ, uint32(data.Len()), 1} {
			binary.Write(&index, binary.BigEndian, v)
		}
		data.Write(e.data)
	}
	var out bytes.Buffer
	binary.Write(&out, binary.BigEndian, uint32(len(entries)))
	binary.Write(&out, binary.BigEndian, uint32(data.Len()))
	out.Write(index.Bytes())
	out.Write(data.Bytes())
	return out.Bytes()
}

// writeRPMDB writes an rpmdb.sqlite holding the manifest's packages. The
// catalog gives no binary epoch, so the source rpm's is used: the binaries
// of a spec share its Epoch unless a subpackage sets its own.
func writeRPMDB(t *testing.T, path string, rpms []manifestRPM) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rpms {
		// srpm_nevra: "openssl-1:3.0.1-23.el9_0.src"
		epoch := 0
		src := strings.TrimSuffix(r.SRPMNEVRA, ".src")
		if i := strings.IndexByte(src, ':'); i > 0 {
			if j := strings.LastIndexByte(src[:i], '-'); j > 0 {
				for _, c := range src[j+1 : i] {
					epoch = epoch*10 + int(c-'0')
				}
				src = src[:j+1] + src[i+1:]
			}
		}
		h := header(r.Name, r.Version, r.Release, r.Arch, src+".src.rpm", epoch)
		if _, err := db.Exec(`INSERT INTO Packages (blob) VALUES (?)`, h); err != nil {
			t.Fatal(err)
		}
	}
}

// ubi9ContentManifest has the shape of the manifests Red Hat's build system
// writes into ubi9 images; ubi9 is built from the RHEL 9 BaseOS and
// AppStream content sets.
const ubi9ContentManifest = `{"metadata": {"icm_version": 1, "icm_spec": "https://raw.githubusercontent.com/containerbuildsystem/atomic-reactor/master/atomic_reactor/schemas/content_manifest.json", "image_layer_index": 0}, "content_sets": ["rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms"], "image_contents": []}`

// buildUBI9 lays out the image as a root filesystem: the real RHEL 9.0
// os-release, an rpmdb built from the real rpm manifest, and the content
// manifest.
func buildUBI9(t *testing.T, withManifest bool) string {
	t.Helper()
	root := t.TempDir()
	files := map[string][]byte{
		"etc/os-release": []byte(`NAME="Red Hat Enterprise Linux"
VERSION="9.0 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.0"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.0 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
`),
	}
	if withManifest {
		files["root/buildinfo/content_manifests/ubi9-container-9.0.0-1468.json"] = []byte(ubi9ContentManifest)
	}
	for p, b := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeRPMDB(t, filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), ubi9Packages(t, ubi9AMD64))
	return root
}

// loadVEX stores the real VEX documents of testdata/vex through the feed's
// own snapshot format.
func loadVEX(t *testing.T, st *sqlite.Store) {
	t.Helper()
	snap := snapshotOf(t, "testdata/vex")
	f := redhat.New()
	n := 0
	_, err := st.ReplaceFeed(context.Background(), f.Name(), "test", func(emit func(*vuln.Advisory) error) error {
		return f.Parse(context.Background(), bytes.NewReader(snap), int64(len(snap)), func(a *vuln.Advisory) error {
			a.Feed = f.Name()
			n++
			return emit(a)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d advisories stored", n)
}

type finding struct{ pkg, cve, fixed, state string }

// indexUBI9 indexes the ubi9 image, with or without its content manifest.
func indexUBI9(t *testing.T, withManifest bool) *vuln.IndexReport {
	t.Helper()
	ctx := context.Background()
	img, err := image.Open(ctx, "dir:"+buildUBI9(t, withManifest), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ix := &index.Indexer{Scanners: []scanner.Scanner{&distro.Scanner{}, &rpm.Scanner{TempDir: t.TempDir()}, &rhel.Scanner{}}}
	ir, err := ix.Index(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(ir.Packages) < 150 {
		t.Fatalf("%d packages indexed", len(ir.Packages))
	}
	// The content manifest's repositories belong to the rpm packages of
	// its layer, as claircore attaches them.
	if withManifest {
		for id, p := range ir.Packages {
			if p.Ecosystem != "rpm" {
				continue
			}
			if envs := ir.Environments[id]; len(envs) == 0 || len(envs[0].RepositoryIDs) != 2 {
				t.Fatalf("rpm package %s: environments %+v, want the 2 content-set repositories", p.Name, envs)
			}
		}
	}
	return ir
}

// matchReport matches an index report and lists its findings.
func matchReport(t *testing.T, st *sqlite.Store, ir *vuln.IndexReport) (*vuln.VulnerabilityReport, map[finding]bool) {
	t.Helper()
	vr, err := (&match.Matcher{Store: st}).Match(context.Background(), ir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[finding]bool{}
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			got[finding{vr.Packages[pid].Name, v.Name, v.FixedInVersion, v.State}] = true
		}
	}
	return vr, got
}

func scanUBI9(t *testing.T, st *sqlite.Store, withManifest bool) (*vuln.VulnerabilityReport, map[finding]bool) {
	t.Helper()
	return matchReport(t, st, indexUBI9(t, withManifest))
}

// loadMapping stores a repository-to-cpe.json document as the
// redhat-repo2cpe feed does, through the feed's own Parse.
func loadMapping(t *testing.T, st *sqlite.Store, doc string) {
	t.Helper()
	f := repo2cpe.New()
	_, err := st.ReplaceFeed(context.Background(), f.Name(), feed.Digest(doc), func(emit func(*vuln.Advisory) error) error {
		return f.Parse(context.Background(), strings.NewReader(doc), int64(len(doc)), func(a *vuln.Advisory) error {
			a.Feed = f.Name()
			return emit(a)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUBI9EndToEnd indexes a ubi9 image built from Red Hat's real rpm
// manifest, matches it against the real VEX documents and checks the
// findings against what the documents say:
//
//   - CVE-2023-38545 (curl SOCKS5): RHEA/RHSA-2023:6745 fixed curl-minimal
//     and libcurl-minimal in 7.76.1-26.el9_3.2 for RHEL 9 BaseOS; the image
//     has 7.76.1-14.el9. The 9.0 EUS fix (7.76.1-14.el9_0.9, RHSA-2023:5700)
//     is for the rhel_eus:9.0 CPEs the image's content sets do not have.
//   - CVE-2024-0727 (openssl PKCS12): fixed in openssl-libs
//     1:3.0.7-27.el9 (RHEL 9.4 GA, no erratum); the image has 1:3.0.1-23.el9_0.
func TestUBI9EndToEnd(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loadVEX(t, st)

	ir := indexUBI9(t, true)
	vr, got := matchReport(t, st, ir)
	var lines []string
	for f := range got {
		lines = append(lines, f.pkg+" "+f.cve+" "+f.fixed+" "+f.state)
	}
	sort.Strings(lines)
	t.Logf("with content manifest, %d findings:\n%s", len(lines), strings.Join(lines, "\n"))
	if len(vr.Repositories) != 2 {
		t.Errorf("repositories: %+v", vr.Repositories)
	}
	for _, want := range []finding{
		{"curl-minimal", "CVE-2023-38545", "0:7.76.1-26.el9_3.2", "affected"},
		{"libcurl-minimal", "CVE-2023-38545", "0:7.76.1-26.el9_3.2", "affected"},
		{"openssl-libs", "CVE-2024-0727", "1:3.0.7-27.el9", "affected"},
		{"openssl", "CVE-2024-0727", "1:3.0.7-27.el9", "affected"},
	} {
		if !got[want] {
			t.Errorf("missing %+v", want)
		}
	}
	for f := range got {
		if strings.Contains(f.fixed, "el9_0.") || strings.Contains(f.fixed, "el9_2.") {
			t.Errorf("an EUS stream's fix reported for an image of the main stream: %+v", f)
		}
	}

	// Without the content manifest the EUS statements apply as well, and
	// the report still shows the highest fix, once per package.
	_, got = scanUBI9(t, st, false)
	for _, want := range []finding{
		{"curl-minimal", "CVE-2023-38545", "0:7.76.1-26.el9_3.2", "affected"},
		{"openssl-libs", "CVE-2024-0727", "1:3.0.7-27.el9", "affected"},
	} {
		if !got[want] {
			t.Errorf("no content manifest: missing %+v", want)
		}
	}
}

// TestUBI9ContentSetMapping shows that the content sets' CPEs are read at
// match time from the redhat-repo2cpe feed: the same index report, never
// indexed again, gets other findings when the stored mapping changes, and
// its old findings back when the mapping agrees with the copy the scanner
// embeds.
func TestUBI9ContentSetMapping(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loadVEX(t, st)
	ir := indexUBI9(t, true)
	curl := finding{"curl-minimal", "CVE-2023-38545", "0:7.76.1-26.el9_3.2", "affected"}
	curlEUS := finding{"curl-minimal", "CVE-2023-38545", "0:7.76.1-14.el9_0.9", "affected"}

	// The feed never ran: the CPEs recorded at index time (the embedded
	// mapping) select the main stream's fix.
	_, before := matchReport(t, st, ir)
	if !before[curl] || before[curlEUS] {
		t.Fatalf("embedded mapping: want %+v and not %+v", curl, curlEUS)
	}

	// Red Hat moves the image's content sets to a product no statement
	// names: the RHEL 9 fix no longer applies to them.
	loadMapping(t, st, `{"data": {
		"rhel-9-for-x86_64-baseos-rpms": {"cpes": ["cpe:/o:redhat:made_up_product:1::baseos"]},
		"rhel-9-for-x86_64-appstream-rpms": {"cpes": ["cpe:/a:redhat:made_up_product:1::appstream"]}
	}}`)
	_, got := matchReport(t, st, ir)
	t.Logf("%d findings with the embedded mapping, %d with the made-up one", len(before), len(got))
	if got[curl] || got[curlEUS] {
		t.Errorf("content sets mapped to a product no fix covers: curl still reported")
	}
	if len(got) >= len(before) {
		t.Errorf("%d findings with the made-up mapping, %d before: the mapping was not applied", len(got), len(before))
	}

	// The content sets map to the 9.0 EUS stream: its fix is reported, the
	// main stream's is not.
	loadMapping(t, st, `{"data": {
		"rhel-9-for-x86_64-baseos-rpms": {"cpes": ["cpe:/o:redhat:rhel_eus:9.0::baseos"]},
		"rhel-9-for-x86_64-appstream-rpms": {"cpes": ["cpe:/a:redhat:rhel_eus:9.0::appstream"]}
	}}`)
	_, got = matchReport(t, st, ir)
	if !got[curlEUS] || got[curl] {
		t.Errorf("content sets mapped to 9.0 EUS: want %+v and not %+v", curlEUS, curl)
	}

	// A mapping that agrees with the embedded copy gives the findings of
	// the index-time CPEs.
	loadMapping(t, st, `{"data": {
		"rhel-9-for-x86_64-baseos-rpms": {"cpes": ["cpe:/o:redhat:enterprise_linux:9::baseos"]},
		"rhel-9-for-x86_64-appstream-rpms": {"cpes": ["cpe:/a:redhat:enterprise_linux:9::appstream"]}
	}}`)
	if _, got = matchReport(t, st, ir); !maps.Equal(got, before) {
		t.Errorf("mapping equal to the embedded one: %d findings, want the %d of the index-time CPEs", len(got), len(before))
	}
}
