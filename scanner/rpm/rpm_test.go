package rpm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
	"github.com/openclair/clair/vuln"
)

// databases are the real rpmdbs the tests read: the path the scanner is
// told, the file (under ../shared/testdata/pkgdb/rpm when shared), the rpm
// backend that reads it ("" when Debian's rpm has none) and the number of
// packages (gpg-pubkey excluded).
var databases = []struct {
	path, file, backend string
	n                   int
	shared              bool
}{
	{"var/lib/rpm/Packages", "testdata/var/lib/rpm/Packages", "bdb_ro", 0, false},
	{"var/lib/rpm/Packages", "testdata/libuuid/Packages", "bdb_ro", 0, false},
	{"usr/lib/sysimage/rpm/Packages.db", "testdata/sle15-bci/Packages.db", "", 0, false},
	{"var/lib/rpm/rpmdb.sqlite", "cbl-mariner-2.0-rpmdb.sqlite", "sqlite", 129, true},
}

// shared returns the path of a file of ../shared/testdata/pkgdb/rpm,
// skipping the test when it is absent.
func shared(t testing.TB, name string) string {
	t.Helper()
	return sharedtest.Path(t, "pkgdb/rpm/"+name)
}

func scan(t testing.TB, path string, b []byte) (*scanner.Result, error) {
	t.Helper()
	s := &Scanner{TempDir: t.TempDir()}
	r, err := s.Scan(context.Background(), scanner.File{Path: path, Size: int64(len(b)), R: bytes.NewReader(b)})
	if ents, _ := os.ReadDir(s.TempDir); len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}
	return r, err
}

func TestWants(t *testing.T) {
	for _, d := range []string{"var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/"} {
		for _, n := range []string{"Packages", "Packages.db", "rpmdb.sqlite"} {
			if !(&Scanner{}).Wants(d + n) {
				t.Errorf("Wants(%q) = false", d+n)
			}
		}
	}
	for _, p := range []string{"var/lib/rpm/Name", "var/lib/rpm/rpmdb.sqlite-wal", "var/lib/rpm/x/Packages", "lib/rpm/Packages",
		"var/lib/rpm", "var/lib/rpm/", "/var/lib/rpm/Packages", "var/lib/dpkg/status", "usr/share/rpm/Packages.db.bak"} {
		if (&Scanner{}).Wants(p) {
			t.Errorf("Wants(%q) = true", p)
		}
	}
}

// line is one package as rpm -q --qf prints it.
func line(name string, epoch int, ver, rel, arch, src string) string {
	if arch == "" {
		arch = "(none)"
	}
	if src == "" {
		src = "(none)"
	}
	return fmt.Sprintf("%s %d %s %s %s %s", name, epoch, ver, rel, arch, src)
}

// lines formats scanned packages like line; the epoch, version and release
// come back out of Version, and SOURCERPM is rebuilt from Source.
func lines(t *testing.T, pkgs []*vuln.Package) []string {
	var out []string
	for _, p := range pkgs {
		epoch := 0
		v := p.Version
		if e, rest, ok := strings.Cut(v, ":"); ok {
			fmt.Sscan(e, &epoch)
			v = rest
		}
		ver, rel, _ := strings.Cut(v, "-")
		src := ""
		if p.Source != nil {
			sv := p.Source.Version
			if _, rest, ok := strings.Cut(sv, ":"); ok {
				sv = rest
			}
			src = p.Source.Name + "-" + sv + ".src.rpm"
		}
		out = append(out, line(p.Name, epoch, ver, rel, p.Arch, src))
	}
	slices.Sort(out)
	return out
}

func TestRealDatabases(t *testing.T) {
	for _, db := range databases {
		t.Run(db.file, func(t *testing.T) {
			file := db.file
			if db.shared {
				file = shared(t, file)
			}
			b := scannertest.ReadFile(t, file)
			r, err := scan(t, db.path, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) > 0 {
				t.Errorf("warnings: %q", r.Warnings)
			}
			if len(r.Packages) == 0 || (db.n > 0 && len(r.Packages) != db.n) {
				t.Fatalf("%d packages, want %d", len(r.Packages), db.n)
			}
			for _, p := range r.Packages {
				if p.Name == "" || p.Version == "" || p.Kind != vuln.KindBinary || p.Ecosystem != "rpm" || p.PackageDB != db.path ||
					!strings.HasPrefix(p.Purl, "pkg:rpm/") || p.Name == "gpg-pubkey" {
					t.Errorf("bad package %+v", p)
				}
				if p.Source == nil || p.Source.Kind != vuln.KindSource || p.Source.Name == "" || p.Source.Version == "" {
					t.Errorf("%s: bad source %+v", p.Name, p.Source)
				}
			}
			got := lines(t, r.Packages)

			// go-rpmdb, the library the readers replace.
			tmp := filepath.Join(t.TempDir(), filepath.Base(db.path))
			if err := os.WriteFile(tmp, b, 0o644); err != nil {
				t.Fatal(err)
			}
			rdb, err := rpmdb.Open(tmp)
			if err != nil {
				t.Fatal(err)
			}
			lib, err := rdb.ListPackages()
			rdb.Close()
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, p := range lib {
				if p.Name != "gpg-pubkey" {
					want = append(want, line(p.Name, p.EpochNum(), p.Version, p.Release, p.Arch, p.SourceRpm))
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("differs from go-rpmdb:\n%s", diff(got, want))
			}

			// rpm itself, for the backends Debian's rpm has.
			if db.backend == "" {
				t.Logf("%d packages; rpm has no backend for it, checked against go-rpmdb only", len(got))
				return
			}
			if _, err := exec.LookPath("rpm"); err != nil {
				t.Skip("rpm not installed (apt-get install rpm)")
			}
			out, err := exec.Command("rpm", "--define", "_db_backend "+db.backend, "--dbpath", filepath.Dir(tmp), "-qa",
				"--qf", `%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH} %{SOURCERPM}\n`).Output()
			if err != nil {
				t.Fatalf("rpm: %v", err)
			}
			want = want[:0]
			for l := range strings.Lines(string(out)) {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "gpg-pubkey ") {
					want = append(want, l)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("differs from rpm -qa:\n%s", diff(got, want))
			}
			t.Logf("%d packages, the same as rpm -qa with backend %s", len(got), db.backend)
		})
	}
}

func diff(got, want []string) string {
	var b strings.Builder
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "+ %s\n", g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	return b.String()
}

// TestTrivyGolden compares the SLE 15 NDB database with trivy's package list
// for a SUSE 15.3 NDB image, on the packages both have.
func TestTrivyGolden(t *testing.T) {
	g, err := os.ReadFile(sharedtest.Path(t, "peer-results/trivy/fanal-package-goldens/suse-15.3_ndb.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var tp []struct{ Name, Version, Release, Arch, SrcName string }
	if err := json.Unmarshal(g, &tp); err != nil {
		t.Fatal(err)
	}
	r, err := scan(t, "var/lib/rpm/Packages.db", scannertest.ReadFile(t, "testdata/sle15-bci/Packages.db"))
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]*vuln.Package{}
	for _, p := range r.Packages {
		ours[p.Name] = p
	}
	same, differ := 0, 0
	for _, p := range tp {
		o := ours[p.Name]
		if o == nil {
			continue
		}
		if o.Version == p.Version+"-"+p.Release && o.Arch == p.Arch && o.Source.Name == p.SrcName {
			same++
		} else {
			differ++
		}
	}
	t.Logf("trivy golden: %d packages, %d in both, %d identical, %d at other versions (a different image build)", len(tp), same+differ, same, differ)
	if same+differ == 0 {
		t.Error("no package in common with trivy's SUSE 15.3 golden")
	}
}

func TestFields(t *testing.T) {
	r, err := scan(t, "var/lib/rpm/rpmdb.sqlite", scannertest.ReadFile(t, shared(t, "cbl-mariner-2.0-rpmdb.sqlite")))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Packages {
		if p.Name == "openssl-libs" {
			want := vuln.Package{Name: "openssl-libs", Version: "1.1.1k-7.cm2", Kind: "binary", Arch: "x86_64",
				PackageDB: "var/lib/rpm/rpmdb.sqlite", Ecosystem: "rpm", Purl: "pkg:rpm/openssl-libs@1.1.1k-7.cm2?arch=x86_64"}
			src := vuln.Package{Name: "openssl", Version: "1.1.1k-7.cm2", Kind: "source"}
			if s := p.Source; s == nil || *s != src {
				t.Errorf("source %+v, want %+v", s, src)
			}
			p.Source = nil
			if *p != want {
				t.Errorf("got  %+v\nwant %+v", *p, want)
			}
			return
		}
	}
	t.Error("openssl-libs not found")
}

func TestHeaderFields(t *testing.T) {
	h := &header{name: "nodejs", epoch: 1, version: "18.14.2", release: "2.module+el8.7.0+18113+2f14fb82",
		arch: "x86_64", sourceRPM: "nodejs-18.14.2-2.module+el8.7.0+18113+2f14fb82.src.rpm",
		modularityLabel: "nodejs:18:8070020230306170042:ad008a3a"}
	p := h.pkg("var/lib/rpm/Packages")
	if p.Version != "1:18.14.2-2.module+el8.7.0+18113+2f14fb82" || p.Module != "nodejs:18" ||
		p.Source.Name != "nodejs" || p.Source.Version != p.Version ||
		p.Purl != "pkg:rpm/nodejs@18.14.2-2.module%2Bel8.7.0%2B18113%2B2f14fb82?arch=x86_64&epoch=1" {
		t.Errorf("%+v %+v", p, p.Source)
	}
	if (&header{name: "gpg-pubkey", version: "fd431d51", release: "4ae0493b"}).pkg("x") != nil {
		t.Error("gpg-pubkey kept")
	}
	if p := (&header{name: "a", version: "1", release: "2", epoch: -1}).pkg("x"); p.Source != nil || p.Version != "1-2" || p.Purl != "pkg:rpm/a@1-2" {
		t.Errorf("%+v", p)
	}
}

func TestParseSourceRPM(t *testing.T) {
	for _, c := range []struct{ in, name, ver, rel string }{
		{"openssl-1.1.1k-9.el8_7.src.rpm", "openssl", "1.1.1k", "9.el8_7"},
		{"python3.11-3.11.5-1.el9_3.src.rpm", "python3.11", "3.11.5", "1.el9_3"},
		{"perl-Text-Tabs+Wrap-2013.0523-395.el8.nosrc.rpm", "perl-Text-Tabs+Wrap", "2013.0523", "395.el8"},
	} {
		n, v, r, ok := parseSourceRPM(c.in)
		if !ok || n != c.name || v != c.ver || r != c.rel {
			t.Errorf("parseSourceRPM(%q) = %q %q %q %v", c.in, n, v, r, ok)
		}
	}
	for _, s := range []string{"", "(none)", "a.src.rpm", "a-1.src.rpm", "-1-2.src.rpm", "a-1-.src.rpm", "a-1-2.src"} {
		if _, _, _, ok := parseSourceRPM(s); ok {
			t.Errorf("parseSourceRPM(%q) ok", s)
		}
	}
}

func TestCorrupt(t *testing.T) {
	bdb := scannertest.ReadFile(t, "testdata/libuuid/Packages")
	ndb := scannertest.ReadFile(t, "testdata/sle15-bci/Packages.db")
	notRPM := sqliteNotRPM(t)
	cases := map[string][]byte{
		"truncated berkeley db":  bdb[:len(bdb)/2],
		"berkeley db one page":   bdb[:4096],
		"berkeley db zero pages": append(bdb[:4096:4096], make([]byte, 8192)...),
		"truncated ndb":          ndb[:len(ndb)/3],
		"ndb header only":        ndb[:32],
		"sqlite, not rpmdb":      notRPM,
		"sqlite header only":     []byte("SQLite format 3\x00 and nothing more"),
		"garbage":                []byte("this is not a database at all"),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := scan(t, "var/lib/rpm/Packages", b)
			if err == nil {
				t.Fatalf("no error; %d packages, warnings %q", len(r.Packages), r.Warnings)
			}
			if !strings.HasPrefix(err.Error(), "rpm: var/lib/rpm/Packages: ") {
				t.Errorf("error %q does not name the file", err)
			}
			t.Log(err)
		})
	}
}

// sqliteNotRPM makes a SQLite database without a Packages table.
func sqliteNotRPM(t *testing.T) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.sqlite")
	db, err := sqlOpen(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return scannertest.ReadFile(t, p)
}

func TestEmptyAndLimits(t *testing.T) {
	r, err := scan(t, "var/lib/rpm/Packages", nil)
	if err != nil || len(r.Packages) != 0 {
		t.Errorf("empty file: %v %v", r, err)
	}
	s := &Scanner{TempDir: t.TempDir()}
	r, err = s.Scan(context.Background(), scanner.File{Path: "var/lib/rpm/Packages", Size: MaxSize + 1, R: bytes.NewReader(nil)})
	if err != nil || len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "rpm: var/lib/rpm/Packages: skipped: larger than") {
		t.Errorf("oversized file: %+v, %v", r, err)
	}
	// The copy to disk is charged to the layer's budget.
	r, err = s.Scan(context.Background(), scanner.File{Path: "var/lib/rpm/Packages", Size: 4096, R: bytes.NewReader(make([]byte, 4096)), Budget: scanner.NewBudget("layer", 1000, nil)})
	if err != nil || len(r.Warnings) != 1 || r.Warnings[0] != "rpm: var/lib/rpm/Packages: skipped: over the layer budget of 1000 B: budget exhausted" {
		t.Errorf("over the budget: %+v, %v", r, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Scan(ctx, scanner.File{Path: "p", R: bytes.NewReader([]byte("x"))}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	if ents, _ := os.ReadDir(s.TempDir); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func FuzzScan(f *testing.F) {
	for _, db := range databases[:3] {
		b, err := os.ReadFile(db.file)
		if err != nil {
			f.Fatal(err)
		}
		// Whole files are too slow to mutate usefully; their starts
		// keep the magic numbers and the first pages.
		f.Add(b[:min(len(b), 16384)])
	}
	f.Add([]byte("SQLite format 3\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, name := range []string{"var/lib/rpm/Packages", "var/lib/rpm/Packages.db", "var/lib/rpm/rpmdb.sqlite"} {
			r, err := scan(t, name, b)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "rpm: "+name+": ") {
					t.Fatalf("error %q does not name the file", err)
				}
				continue
			}
			for _, p := range r.Packages {
				if p.Name == "" || p.Ecosystem != "rpm" || p.PackageDB != name {
					t.Fatalf("bad package %+v", p)
				}
			}
		}
	})
}

// TestHeader reads one raw header blob as an rpmdb stores it, then damaged
// copies of it: every truncation must be an error, never a panic.
func TestHeader(t *testing.T) {
	b := scannertest.ReadFile(t, "testdata/package.header")
	h, err := parseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *h)
	if h.name == "" || h.version == "" || h.release == "" || h.arch == "" {
		t.Errorf("%+v", *h)
	}
	for n := 0; n < len(b); n += 97 {
		if _, err := parseHeader(b[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	for i := 8; i < 8+16*int(b[3]); i++ {
		c := bytes.Clone(b)
		c[i] ^= 0xff
		parseHeader(c) // must not panic
	}
}

// FuzzReaders drives the Berkeley DB and NDB readers and the header parser
// directly, without the temporary file and the SQLite driver of FuzzScan, so
// that the fuzzer's coverage is theirs.
func FuzzReaders(f *testing.F) {
	for _, name := range []string{"testdata/var/lib/rpm/Packages", "testdata/libuuid/Packages", "testdata/sle15-bci/Packages.db", "testdata/package.header"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 16384)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		fn := func(blob []byte) error {
			parseHeader(blob)
			return nil
		}
		readBDB(r, int64(len(b)), fn)
		readNDB(r, int64(len(b)), fn)
		parseHeader(b)
	})
}

// TestSourceRPMManifests splits every source RPM named in Red Hat's catalog
// manifests (ubi9 httpd-24, nodejs, a BerkeleyDB image) and checks the name
// against the manifest's own srpm_name.
func TestSourceRPMManifests(t *testing.T) {
	n := 0
	for _, m := range []string{"claircore-httpd-24_9.5-1734525854.rpm-manifest.json", "claircore-nodejs.rpm-manifest.json", "claircore-bdb.rpm-manifest.json"} {
		b := scannertest.ReadFile(t, shared(t, m))
		var man struct {
			RPMs []struct {
				Name  string `json:"srpm_name"`
				NEVRA string `json:"srpm_nevra"`
			} `json:"rpms"`
		}
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		for _, r := range man.RPMs {
			if r.NEVRA == "" {
				continue
			}
			name, ver, rel, ok := parseSourceRPM(r.NEVRA + ".rpm")
			if !ok || name != r.Name || ver == "" || rel == "" {
				t.Errorf("%s: parseSourceRPM(%q) = %q %q %q %v, manifest says %q", m, r.NEVRA+".rpm", name, ver, rel, ok, r.Name)
			}
			n++
		}
	}
	t.Logf("%d source RPMs", n)
	if n == 0 {
		t.Error("no source RPM in the manifests")
	}
}
