package distro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

func scanBytes(t testing.TB, path string, b []byte) *scanner.Result {
	t.Helper()
	s := &Scanner{}
	if !s.Wants(path) {
		t.Fatalf("Wants(%q) = false", path)
	}
	r, err := s.Scan(context.Background(), scanner.File{Path: path, Size: int64(len(b)), Mode: 0o644, R: bytes.NewReader(b)})
	if err != nil {
		t.Fatalf("Scan(%s): %v", path, err)
	}
	return r
}

// lostSymlink is what git leaves of the symlink etc/os-release ->
// ../usr/lib/os-release in the shared rootfs folders.
const lostSymlink = "../usr/lib/os-release"

// scanRoot scans the distribution files of a root folder as the indexer
// would, and combines them. With resolve, a file holding only the text of a
// lost symlink is read as its target, as the indexer resolves symlinks.
func scanRoot(t testing.TB, root string, resolve bool) (map[string]*scanner.Result, *scanner.Result) {
	t.Helper()
	results := map[string]*scanner.Result{}
	for _, p := range priority {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if resolve && string(b) == lostSymlink {
			b, err = os.ReadFile(filepath.Join(root, filepath.Dir(filepath.FromSlash(p)), filepath.FromSlash(lostSymlink)))
			if err != nil {
				t.Fatal(err)
			}
		}
		results[p] = scanBytes(t, p, b)
	}
	return results, (&Scanner{}).Combine(results)
}

type want struct {
	did, versionID, codename, namespace string
}

func check(t *testing.T, name string, r *scanner.Result, w want) {
	t.Helper()
	if r == nil || r.Distribution == nil {
		t.Fatalf("%s: no distribution (result %+v)", name, r)
	}
	d := r.Distribution
	got := want{d.DID, d.VersionID, d.VersionCodeName, vuln.Namespace(d)}
	if got != w {
		t.Errorf("%s: got %+v, want %+v (distribution %+v)", name, got, w, d)
	}
	if d.ID != "" {
		t.Errorf("%s: ID = %q, want empty", name, d.ID)
	}
}

func TestRootfs(t *testing.T) {
	tests := map[string]want{
		"debian-11-nginx":            {"debian", "11", "bullseye", "debian:11"},
		"debian-7":                   {"debian", "7", "", "debian:7"},
		"distroless-debian-11":       {"debian", "11", "", "debian:11"},
		"debian-buster-sid":          {"debian", "", "buster", "debian:10"},
		"ubuntu-20.04-base-industio": {"ubuntu", "20.04", "focal", "ubuntu:20.04"},
		"ubuntu-14.04":               {"ubuntu", "14.04", "trusty", "ubuntu:14.04"},
		"ubuntu-10.04":               {"ubuntu", "10.04", "lucid", "ubuntu:10.04"},
		"alpine-3.14-minirootfs":     {"alpine", "3.14.0", "", "alpine:v3.14"},
		"alpine-3.3":                 {"alpine", "3.3.3", "", "alpine:v3.3"},
		"alpine-edge":                {"alpine", "3.19_alpha20230901", "", "alpine:edge"},
		"rhel-9":                     {"rhel", "9.0", "", "rhel:9"},
		"fedora-42":                  {"fedora", "42", "", ""},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			results, r := scanRoot(t, filepath.Join("testdata", "rootfs", name), false)
			if len(results) == 0 {
				t.Fatal("no files scanned")
			}
			for p, res := range results {
				if len(res.Warnings) > 0 {
					t.Errorf("%s: warnings %q", p, res.Warnings)
				}
			}
			check(t, name, r, w)
		})
	}
}

// Ubuntu carries Debian's debian_version; lower-priority files must only fill
// in for the same distribution.
func TestUbuntuDebianVersionIgnored(t *testing.T) {
	root := filepath.Join("testdata", "rootfs", "ubuntu-20.04-base-industio")
	results, r := scanRoot(t, root, false)
	dv := results[DebianVersion]
	if dv == nil || dv.Distribution == nil || dv.Distribution.DID != "debian" || dv.Distribution.VersionCodeName != "bullseye" {
		t.Fatalf("debian_version alone: %+v", dv)
	}
	if r.Distribution.Version != "20.04.1 LTS (Focal Fossa)" || r.Distribution.PrettyName != "Ubuntu 20.04.1 LTS" || r.Distribution.Name != "Ubuntu" {
		t.Errorf("combined: %+v", r.Distribution)
	}
	// Even with no os-release, lsb-release outranks debian_version.
	delete(results, UsrLibOSRelease)
	r = (&Scanner{}).Combine(results)
	check(t, "lsb+debian_version", r, want{"ubuntu", "20.04", "focal", "ubuntu:20.04"})
}

func TestCombine(t *testing.T) {
	s := &Scanner{}
	res := func(d vuln.Distribution) *scanner.Result { return &scanner.Result{Distribution: &d} }
	t.Run("etc before usr/lib", func(t *testing.T) {
		r := s.Combine(map[string]*scanner.Result{
			EtcOSRelease:    res(vuln.Distribution{ID: "7", DID: "debian", VersionID: "12"}),
			UsrLibOSRelease: res(vuln.Distribution{DID: "debian", VersionID: "11", VersionCodeName: "bullseye", PrettyName: "x"}),
		})
		d := r.Distribution
		if d.VersionID != "12" || d.VersionCodeName != "bullseye" || d.PrettyName != "x" || d.ID != "" {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("debian testing codename", func(t *testing.T) {
		// A testing image's os-release has no VERSION_ID.
		r := s.Combine(map[string]*scanner.Result{
			EtcOSRelease:  res(vuln.Distribution{DID: "debian", PrettyName: "Debian GNU/Linux trixie/sid"}),
			DebianVersion: scanBytes(t, DebianVersion, []byte("trixie/sid\n")),
		})
		check(t, "testing", r, want{"debian", "", "trixie", "debian:13"})
	})
	t.Run("no id in os-release", func(t *testing.T) {
		r := s.Combine(map[string]*scanner.Result{
			EtcOSRelease:  res(vuln.Distribution{Name: "Alpine Linux"}),
			AlpineRelease: scanBytes(t, AlpineRelease, []byte("3.18.9\n")),
		})
		check(t, "no id", r, want{"alpine", "3.18.9", "", "alpine:v3.18"})
	})
	t.Run("disagreeing lower files", func(t *testing.T) {
		r := s.Combine(map[string]*scanner.Result{
			LSBRelease:    res(vuln.Distribution{DID: "ubuntu", VersionID: "22.04"}),
			DebianVersion: scanBytes(t, DebianVersion, []byte("bookworm/sid\n")),
			AlpineRelease: scanBytes(t, AlpineRelease, []byte("3.18.9\n")),
		})
		check(t, "ubuntu", r, want{"ubuntu", "22.04", "", "ubuntu:22.04"})
	})
	t.Run("nothing", func(t *testing.T) {
		if r := s.Combine(nil); r != nil {
			t.Errorf("got %+v", r)
		}
		if r := s.Combine(map[string]*scanner.Result{"etc/other": res(vuln.Distribution{DID: "x"})}); r != nil {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("warnings kept", func(t *testing.T) {
		r := s.Combine(map[string]*scanner.Result{EtcOSRelease: scanBytes(t, EtcOSRelease, []byte(lostSymlink))})
		if r == nil || r.Distribution != nil || len(r.Warnings) != 1 {
			t.Errorf("got %+v", r)
		}
	})
}

func TestDebianVersion(t *testing.T) {
	tests := []struct {
		in       string
		id, code string
		nilDist  bool
	}{
		{in: "12.5\n", id: "12"},
		{in: "9.13", id: "9"},
		{in: "6.0.10\n", id: "6"},
		{in: "12\n", id: "12"},
		{in: "bookworm/sid\n", code: "bookworm"},
		{in: "sid\n", code: "sid"},
		{in: "\n", nilDist: true},
		{in: "Debian 12 please\n", nilDist: true},
	}
	for _, tt := range tests {
		r := scanBytes(t, DebianVersion, []byte(tt.in))
		if tt.nilDist {
			if r.Distribution != nil {
				t.Errorf("%q: got %+v", tt.in, r.Distribution)
			}
			continue
		}
		d := r.Distribution
		if d == nil || d.DID != "debian" || d.VersionID != tt.id || d.VersionCodeName != tt.code {
			t.Errorf("%q: got %+v", tt.in, d)
		}
	}
	if r := scanBytes(t, DebianVersion, []byte("Debian 12 please\n")); len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "distro: etc/debian_version: line 1: ") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if r := scanBytes(t, AlpineRelease, []byte("Welcome to Alpine\n")); r.Distribution != nil || len(r.Warnings) != 1 {
		t.Errorf("alpine-release garbage: %+v", r)
	}
}

func TestParseOSRelease(t *testing.T) {
	in := "# comment\n" +
		"  ID=debian  \r\n" +
		"NAME='single \"quoted\"'\n" +
		"VERSION=\"12 \\\"(bookworm)\\\" \\$x \\\\ \\` \\n\"\n" +
		"PRETTY_NAME=unquoted with spaces\n" +
		"A=\"con\"'cat'ed\n" +
		"B=back\\ slash\\\n" +
		"C=\n" +
		"D=\"\"\n" +
		"ID=ubuntu\n" +
		"not a line\n" +
		"1X=y\n" +
		"E=\"open\n" +
		"F='open\n" +
		" G = spaced \n" +
		"\n"
	got, warns := ParseOSRelease([]byte(in))
	want := map[string]string{
		"ID":          "ubuntu",
		"NAME":        `single "quoted"`,
		"VERSION":     "12 \"(bookworm)\" $x \\ ` \\n",
		"PRETTY_NAME": "unquoted with spaces",
		"A":           "concated",
		"B":           `back slash\`,
		"C":           "",
		"D":           "",
		"G":           "spaced",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	wantWarns := []string{
		`line 11: not KEY=VALUE: "not a line"`,
		`line 12: "1X" is not a variable name`,
		`line 13: E: unterminated double quote`,
		`line 14: F: unterminated single quote`,
	}
	if !reflect.DeepEqual(warns, wantWarns) {
		t.Errorf("warnings %q, want %q", warns, wantWarns)
	}

	many := strings.Repeat("garbage\n", 100)
	_, warns = ParseOSRelease([]byte(many))
	if len(warns) != maxWarnings+1 || warns[maxWarnings] != "90 more bad lines" {
		t.Errorf("warnings on garbage: %d %q", len(warns), warns[len(warns)-1])
	}
}

func checkTxtar(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := sharedtest.Txtar(b)
	var want map[string]string
	if err := json.Unmarshal(a["Parsed"], &want); err != nil {
		t.Fatalf("%s: Parsed: %v", path, err)
	}
	got, warns := ParseOSRelease(a["os-release"])
	if len(warns) > 0 {
		t.Errorf("%s: warnings %q", path, warns)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", path, got, want)
	}
}

// claircore's parser read the same files to these maps.
func TestParseOSReleaseClaircore(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "osrelease", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no txtar fixtures")
	}
	for _, f := range files {
		checkTxtar(t, f)
	}
}

func TestParseOSReleaseClaircoreShared(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedtest.Path(t, "pkgdb/os-release/claircore/osrelease"), "*.txtar"))
	if len(files) < 10 {
		t.Fatalf("only %d txtar fixtures", len(files))
	}
	for _, f := range files {
		checkTxtar(t, f)
	}
}

var ubuntuCodenames = map[string]string{
	"10.04": "lucid", "12.04": "precise", "12.10": "quantal", "13.04": "raring", "13.10": "saucy",
	"14.04": "trusty", "14.10": "utopic", "15.04": "vivid", "15.10": "wily", "16.04": "xenial",
	"16.10": "yakkety", "17.04": "zesty", "17.10": "artful", "18.04": "bionic", "18.10": "cosmic",
	"19.04": "disco", "19.10": "eoan", "20.04": "focal", "20.10": "groovy", "21.04": "hirsute",
	"21.10": "impish", "22.04": "jammy", "22.10": "kinetic", "23.04": "lunar", "23.10": "mantic",
}

// TestSharedClaircore scans every release folder of claircore's fixtures.
func TestSharedClaircore(t *testing.T) {
	base := sharedtest.Path(t, "pkgdb/os-release/claircore")
	roots := map[string]bool{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "etc" {
			roots[filepath.Dir(p)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	debianCodes := map[string]string{"7": "", "8": "", "9": "stretch", "10": "buster", "11": "bullseye", "12": "bookworm"}
	seen := map[string]int{}
	for root := range roots {
		rel, _ := filepath.Rel(base, root)
		rel = filepath.ToSlash(rel)
		results, r := scanRoot(t, root, false)
		for p, res := range results {
			if len(res.Warnings) > 0 {
				t.Errorf("%s/%s: warnings %q", rel, p, res.Warnings)
			}
		}
		parts := strings.Split(rel, "/")
		last := parts[len(parts)-1]
		switch {
		case parts[0] == "debian" && parts[1] == "dist":
			check(t, rel, r, want{"debian", last, debianCodes[last], "debian:" + last})
		case parts[0] == "debian" && parts[1] == "distroless_dist":
			check(t, rel, r, want{"debian", last, "", "debian:" + last})
		case parts[0] == "ubuntu" && last == "11":
			// claircore's Ubuntu fixtures hold one Debian 11 os-release.
			check(t, rel, r, want{"debian", "11", "bullseye", "debian:11"})
		case parts[0] == "ubuntu":
			check(t, rel, r, want{"ubuntu", last, ubuntuCodenames[last], "ubuntu:" + last})
		case parts[0] == "alpine" && last == "edge":
			check(t, rel, r, want{"alpine", r.Distribution.VersionID, "", "alpine:edge"})
		case parts[0] == "alpine":
			if !strings.HasPrefix(r.Distribution.VersionID, last+".") {
				t.Errorf("%s: VersionID %q", rel, r.Distribution.VersionID)
			}
			check(t, rel, r, want{"alpine", r.Distribution.VersionID, "", "alpine:v" + last})
		case parts[0] == "rhel":
			// Oracle 6-9 roots hold only oracle-release and a
			// redhat-release that claims RHEL: oracle-release wins. The
			// RHEL roots' os-release wins over their redhat-release
			// (RHEL 7's says 7.4 beside os-release's 7.7).
			w, ok := map[string]want{
				"7":            {"rhel", "7.7", "", "rhel:7"},
				"8":            {"rhel", "8.1", "", "rhel:8"},
				"9":            {"rhel", "9.0", "", "rhel:9"},
				"atomichost-7": {"rhel", "7.9", "", "rhel:7"},
				"hummingbird":  {"hummingbird", "20251124", "", ""},
				"oracle-6":     {"ol", "6.10", "", "ol:6"},
				"oracle-7":     {"ol", "7.9", "", "ol:7"},
				"oracle-8":     {"ol", "8.9", "", "ol:8"},
				"oracle-9":     {"ol", "9.3", "", "ol:9"},
			}[last]
			if !ok {
				t.Errorf("%s: no expectation", rel)
				break
			}
			check(t, rel, r, w)
			if cpe := map[string]string{"7": "cpe:/o:redhat:enterprise_linux:7.7:GA:server", "9": "cpe:/o:redhat:enterprise_linux:9::baseos"}[last]; cpe != "" && r.Distribution.CPE != cpe {
				t.Errorf("%s: CPE %q, want %q", rel, r.Distribution.CPE, cpe)
			}
		default:
			t.Errorf("unexpected root %s", rel)
		}
		seen[parts[0]]++
	}
	t.Logf("roots scanned: %v", seen)
	if seen["debian"] != 9 || seen["alpine"] != 17 || seen["ubuntu"] != 26 {
		t.Errorf("roots scanned: %v", seen)
	}
}

func TestSharedTrivy(t *testing.T) {
	base := sharedtest.Path(t, "pkgdb/os-release/trivy")
	// Every os-release of trivy's fixtures, with the namespace the feeds
	// need ("" where no feed covers the distribution).
	release := map[string]struct {
		w   want
		cpe string
	}{
		"activestate":         {want{"activestate", "1.0", "", ""}, ""},
		"alma":                {want{"almalinux", "9.4", "", "alma:9"}, "cpe:/o:almalinux:almalinux:9::baseos"},
		"alpine":              {want{"alpine", "3.15.4", "", "alpine:v3.15"}, ""},
		"azurelinux-3.0":      {want{"azurelinux", "3.0", "", "azurelinux:3.0"}, ""},
		"bottlerocket":        {want{"bottlerocket", "1.34.0", "", ""}, ""},
		"centos":              {want{"centos", "7", "", "rhel:7"}, "cpe:/o:centos:centos:7"},
		"centos-stream":       {want{"centos", "8", "", "rhel:8"}, "cpe:/o:centos:centos:8"},
		"coreos":              {want{"coreos", "3.15.4", "", ""}, ""},
		"echo":                {want{"echo", "1", "", ""}, ""},
		"fedora":              {want{"fedora", "42", "", ""}, "cpe:/o:fedoraproject:fedora:42"},
		"mariner-1.0":         {want{"mariner", "1.0", "", "mariner:1.0"}, ""},
		"mariner-2.0":         {want{"mariner", "2.0", "", "mariner:2.0"}, ""},
		"minimos":             {want{"minimos", "20241031", "", ""}, ""},
		"no-id":               {want{"", "3.15.4", "", ""}, ""},
		"no-version":          {want{"alpine", "", "", ""}, ""},
		"opensuseleap-15.2.1": {want{"opensuse-leap", "15.2", "", "opensuse-leap:15.2"}, "cpe:/o:opensuse:leap:15.2.1"},
		"opensuseleap-42.3":   {want{"opensuse-leap", "42.3", "", "opensuse-leap:42.3"}, "cpe:/o:opensuse:leap:42.3"},
		"opensusetumbleweed":  {want{"opensuse-tumbleweed", "20220412", "", ""}, "cpe:/o:opensuse:tumbleweed:20220412"},
		"oracle":              {want{"ol", "8.10", "", "ol:8"}, "cpe:/o:oracle:linux:8:10:server"},
		"photon":              {want{"photon", "4.0", "", "photon:4.0"}, ""},
		"rhel":                {want{"rhel", "9.4", "", "rhel:9"}, "cpe:/o:redhat:enterprise_linux:9::baseos"},
		"rocky":               {want{"rocky", "9.3", "", "rocky:9"}, "cpe:/o:rocky:rocky:9::baseos"},
		// SLE Micro shares SLES's namespace (vuln.Namespace); the
		// Rancher flavour and SL Micro 6 have no namespace there.
		"slemicro":         {want{"sle-micro", "5.3", "", "sles:5.3"}, "cpe:/o:suse:sle-micro:5.3"},
		"slemicro-rancher": {want{"sle-micro-rancher", "5.4", "", ""}, "cpe:/o:suse:sle-micro-rancher:5.4"},
		"slemicro6.0":      {want{"sl-micro", "6.0", "", ""}, "cpe:/o:suse:sl-micro:6.0"},
		"sles":             {want{"sles", "15.3", "", "sles:15.3"}, "cpe:/o:suse:sles:15:sp3"},
		"unknown":          {want{"unknown", "4.3.2", "", ""}, ""},
	}
	files, _ := filepath.Glob(filepath.Join(base, "release", "*"))
	if len(files) != len(release) {
		t.Errorf("%d files, %d expectations", len(files), len(release))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := scanBytes(t, EtcOSRelease, b)
		if len(r.Warnings) > 0 {
			t.Errorf("%s: warnings %q", f, r.Warnings)
		}
		e, ok := release[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: no expectation", f)
			continue
		}
		c := (&Scanner{}).Combine(map[string]*scanner.Result{EtcOSRelease: r})
		check(t, filepath.Base(f), c, e.w)
		if c.Distribution.CPE != e.cpe {
			t.Errorf("%s: CPE %q, want %q", filepath.Base(f), c.Distribution.CPE, e.cpe)
		}
	}
	// The RHEL family's release files, alone as in images without
	// os-release (RHEL 6, CentOS 6, Oracle 6).
	redhat := map[string]want{
		"alma/almalinux-release":   {"almalinux", "8.4", "", "alma:8"},
		"centos/centos-release":    {"centos", "7.6.1810", "", "rhel:7"},
		"fedora_29/fedora-release": {"fedora", "29", "", ""},
		"oracle_7/oracle-release":  {"ol", "7.6", "", "ol:7"},
		"redhat_6/redhat-release":  {"rhel", "6.2", "", "rhel:6"},
		"rocky/rocky-release":      {"rocky", "8.4", "", "rocky:8"},
	}
	for rel, w := range redhat {
		b, err := os.ReadFile(filepath.Join(base, "redhatbase", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		p := "etc/" + filepath.Base(rel)
		r := scanBytes(t, p, b)
		if len(r.Warnings) > 0 {
			t.Errorf("%s: warnings %q", rel, r.Warnings)
		}
		check(t, rel, (&Scanner{}).Combine(map[string]*scanner.Result{p: r}), w)
	}
	if r := scanBytes(t, RedHatRelease, nil); r.Distribution != nil || len(r.Warnings) > 0 {
		t.Errorf("empty redhat-release: %+v", r)
	}
	one := func(rel, path string) *scanner.Result {
		b, err := os.ReadFile(filepath.Join(base, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return scanBytes(t, path, b)
	}
	check(t, "debian_9", one("debian/debian_9/etc/debian_version", DebianVersion), want{"debian", "9", "", "debian:9"})
	check(t, "debian_sid", one("debian/debian_sid/etc/debian_version", DebianVersion), want{"debian", "", "buster", "debian:10"})
	check(t, "ubuntu lsb", one("ubuntu/lsb-release", LSBRelease), want{"ubuntu", "18.04", "bionic", "ubuntu:18.04"})
	if r := one("debian/empty", DebianVersion); r.Distribution != nil || len(r.Warnings) > 0 {
		t.Errorf("empty debian_version: %+v", r)
	}
	if r := one("ubuntu/invalid", LSBRelease); r.Distribution != nil || len(r.Warnings) != 1 {
		t.Errorf("invalid lsb-release: %+v", r)
	}
	// Not an os-release at all, but it must not fail a layer.
	if r := one("ubuntu/esm_enabled_status.json", EtcOSRelease); r.Distribution != nil || len(r.Warnings) == 0 {
		t.Errorf("json as os-release: %+v", r)
	}
}

func TestSharedRootfs(t *testing.T) {
	base := sharedtest.Path(t, "pkgdb/rootfs")
	tests := map[string]want{
		"debian-11-nginx":                    {"debian", "11", "bullseye", "debian:11"},
		"debian-12-python3.12-slim-langflow": {"debian", "12", "bookworm", "debian:12"},
		"ubuntu-20.04-base-industio":         {"ubuntu", "20.04", "focal", "ubuntu:20.04"},
		"alpine-3.14-minirootfs":             {"alpine", "3.14.0", "", "alpine:v3.14"},
	}
	for name, w := range tests {
		root := filepath.Join(base, name)
		_, r := scanRoot(t, root, true)
		check(t, name, r, w)
		if len(r.Warnings) > 0 {
			t.Errorf("%s: warnings %q", name, r.Warnings)
		}
		// Read as they are, without resolving the lost symlink: the
		// 21-byte text is a warning and usr/lib/os-release still decides.
		results, r := scanRoot(t, root, false)
		check(t, name+" (raw)", r, w)
		if b, _ := os.ReadFile(filepath.Join(root, "etc", "os-release")); string(b) == lostSymlink {
			if e := results[EtcOSRelease]; e.Distribution != nil || len(e.Warnings) != 1 {
				t.Errorf("%s: lost symlink read as %+v", name, e)
			}
		}
	}
}

func TestWants(t *testing.T) {
	s := &Scanner{}
	for _, p := range []string{"etc/os-release", "usr/lib/os-release", "etc/lsb-release", "etc/debian_version", "etc/alpine-release",
		"etc/redhat-release", "etc/system-release", "etc/centos-release", "etc/oracle-release"} {
		if !s.Wants(p) {
			t.Errorf("Wants(%q) = false", p)
		}
	}
	for _, p := range []string{"/etc/os-release", "./etc/os-release", "etc/redhat-release.d", "x/etc/os-release", "etc/os-release.d", ""} {
		if s.Wants(p) {
			t.Errorf("Wants(%q) = true", p)
		}
	}
}

func TestScanErrors(t *testing.T) {
	s := &Scanner{}
	_, err := s.Scan(context.Background(), scanner.File{Path: "etc/issue", R: strings.NewReader("x")})
	if err == nil || !strings.Contains(err.Error(), "distro: etc/issue") {
		t.Errorf("unwanted path: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Scan(ctx, scanner.File{Path: EtcOSRelease, R: strings.NewReader("ID=x")})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "distro: etc/os-release") {
		t.Errorf("cancelled: %v", err)
	}
	_, err = s.Scan(context.Background(), scanner.File{Path: EtcOSRelease, R: errReader{}})
	if err == nil || !strings.Contains(err.Error(), "distro: etc/os-release: boom") {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestTruncated(t *testing.T) {
	// The real fields first, then padding past the bound; the line that
	// straddles the bound must not be read as a short value.
	head := "ID=debian\nVERSION_ID=\"12\"\n"
	pad := strings.Repeat("X_PAD=\""+strings.Repeat("y", 100)+"\"\n", MaxRead/100)
	b := []byte(head + pad + "PRETTY_NAME=late\n")
	r := scanBytes(t, EtcOSRelease, b)
	if d := r.Distribution; d == nil || d.DID != "debian" || d.VersionID != "12" || d.PrettyName != "" {
		t.Errorf("got %+v", d)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "larger than 65536 bytes") {
		t.Errorf("warnings %q", r.Warnings)
	}
	// One endless line: nothing is read, nothing fails.
	r = scanBytes(t, EtcOSRelease, bytes.Repeat([]byte("A"), MaxRead+10))
	if r.Distribution != nil || len(r.Warnings) != 1 {
		t.Errorf("endless line: %+v", r)
	}
}

func FuzzOSRelease(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "fuzz") || strings.HasSuffix(p, ".md") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			if strings.HasSuffix(p, ".txtar") {
				b = sharedtest.Txtar(b)["os-release"]
			}
			f.Add(b)
		}
		return nil
	})
	f.Add([]byte("A=\"x\\\"y\"'z'\\ w\nB='\n#c\n=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, warns := ParseOSRelease(b)
		if len(warns) > maxWarnings+1 {
			t.Fatalf("%d warnings", len(warns))
		}
		keys := make([]string, 0, len(fields))
		for k, v := range fields {
			if !validKey(k) {
				t.Fatalf("key %q", k)
			}
			if strings.ContainsRune(v, '\n') || !utf8Valid(v) {
				t.Fatalf("value %q", v)
			}
			keys = append(keys, k)
		}
		// What was read, written back quoted, reads the same.
		sort.Strings(keys)
		var out strings.Builder
		for _, k := range keys {
			out.WriteString(k + "=\"" + escape(fields[k]) + "\"\n")
		}
		again, warns := ParseOSRelease([]byte(out.String()))
		if len(warns) > 0 || !reflect.DeepEqual(again, fields) {
			t.Fatalf("round trip of %q: %q (warnings %q)", out.String(), again, warns)
		}
		for _, p := range priority {
			scanBytes(t, p, b)
		}
	})
}

func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("$\"\\`", s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// TestRPMRelease covers release-file lines the shared fixtures lack
// (Amazon Linux's system-release, written as those images carry them) and
// an os-release without VERSION_ID completed by redhat-release.
func TestRPMRelease(t *testing.T) {
	for in, w := range map[string]want{
		"Amazon Linux release 2 (Karoo)\n":                      {"amzn", "2", "", "amzn:2"},
		"Amazon Linux release 2023.3.20240131 (Amazon Linux)\n": {"amzn", "2023", "", "amzn:2023"},
		"Amazon Linux AMI release 2018.03\n":                    {"amzn", "2018.03", "", "amzn:2018.03"},
		"CentOS Stream release 9\n":                             {"centos", "9", "", "rhel:9"},
		"Red Hat Enterprise Linux Server release 7.9 (Maipo)\n": {"rhel", "7.9", "", "rhel:7"},
		"Red Hat Enterprise Linux release 8.10 (Ootpa)\n":       {"rhel", "8.10", "", "rhel:8"},
		"Oracle Linux Server release 6.10\n":                    {"ol", "6.10", "", "ol:6"},
		"AlmaLinux release 9.4 (Seafoam Ocelot)\nsecond line\n": {"almalinux", "9.4", "", "alma:9"},
	} {
		r := scanBytes(t, SystemRelease, []byte(in))
		check(t, in, (&Scanner{}).Combine(map[string]*scanner.Result{SystemRelease: r}), w)
	}
	if r := scanBytes(t, RedHatRelease, []byte("garbage\n")); r.Distribution != nil || len(r.Warnings) != 1 {
		t.Errorf("garbage: %+v", r)
	}
	// os-release naming the distribution but not its version.
	res := map[string]*scanner.Result{
		EtcOSRelease:  scanBytes(t, EtcOSRelease, []byte("ID=rhel\nNAME=\"Red Hat Enterprise Linux\"\n")),
		RedHatRelease: scanBytes(t, RedHatRelease, []byte("Red Hat Enterprise Linux release 9.2 (Plow)\n")),
		OracleRelease: nil,
	}
	check(t, "incomplete os-release", (&Scanner{}).Combine(res), want{"rhel", "9.2", "", "rhel:9"})
	// Oracle Linux 7 without os-release: its redhat-release claims RHEL.
	res = map[string]*scanner.Result{
		OracleRelease: scanBytes(t, OracleRelease, []byte("Oracle Linux Server release 7.9\n")),
		RedHatRelease: scanBytes(t, RedHatRelease, []byte("Red Hat Enterprise Linux Server release 7.9 (Maipo)\n")),
	}
	check(t, "oracle 7", (&Scanner{}).Combine(res), want{"ol", "7.9", "", "ol:7"})
}
