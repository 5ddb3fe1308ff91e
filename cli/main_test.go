package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/imagetest"
	"github.com/openclair/clair/vuln"
)

// The repository's own small real images and feed excerpts (testdata/ at the
// root; see testdata/SOURCES.md): these tests pass on a clone alone and never
// touch the network.
const root = ".."

func clairctl(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

func scanJSON(t *testing.T, args ...string) *vuln.VulnerabilityReport {
	t.Helper()
	out, errOut, code := clairctl(t, args...)
	if code != 0 {
		t.Fatalf("clairctl %v: exit %d\n%s", args, code, errOut)
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal([]byte(out), &vr); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	return &vr
}

// pairs returns the report's (binary package, vulnerability) pairs with
// their fixed versions.
func pairs(vr *vuln.VulnerabilityReport) map[string]string {
	out := map[string]string{}
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			out[vr.Packages[pid].Name+" "+v.Name] = v.FixedInVersion
		}
	}
	return out
}

func TestScanDebianOffline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	feedURL := "file://" + filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json")
	img := "docker-archive:" + filepath.Join(root, "testdata/images/debian-11-nginx.tar")
	vr := scanJSON(t, "--db", db, "scan", "--only", "debian", "--feed", "debian="+feedURL, "--format", "json", img)

	if vr.ManifestHash == "" || !strings.HasPrefix(vr.ManifestHash, "sha256:") {
		t.Errorf("manifest_hash = %q", vr.ManifestHash)
	}
	if len(vr.Packages) != 142 {
		t.Errorf("%d packages, want 142 (the dpkg status has 142 installed)", len(vr.Packages))
	}
	var d *vuln.Distribution
	for _, x := range vr.Distributions {
		d = x
	}
	if d == nil || d.DID != "debian" || d.VersionID != "11" {
		t.Fatalf("distribution = %+v", d)
	}
	p := pairs(vr)
	// bsdutils 1:2.36.1-8+deb11u1 is built from util-linux 2.36.1-8+deb11u1;
	// the tracker fixed CVE-2024-28085 in bullseye in util-linux 2.36.1-8+deb11u2.
	if fixed := p["bsdutils CVE-2024-28085"]; fixed != "2.36.1-8+deb11u2" {
		t.Errorf("bsdutils CVE-2024-28085: fixed %q; %d pairs", fixed, len(p))
	}
	if fixed, ok := p["bsdutils CVE-2022-0563"]; !ok || fixed != "" {
		t.Errorf("bsdutils CVE-2022-0563 (open in bullseye) missing or fixed (%q)", fixed)
	}
	if len(p) < 100 {
		t.Errorf("only %d (package, vulnerability) pairs", len(p))
	}
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			if v.State == string(vuln.StateNotAffected) {
				t.Errorf("%s %s reported though not affected", vr.Packages[pid].Name, v.Name)
			}
		}
	}

	// The second scan finds the feed unchanged and reads no layer again.
	_, errOut, code := clairctl(t, "--db", db, "scan", "--only", "debian", "--feed", "debian="+feedURL, img)
	if code != 0 || !strings.Contains(errOut, "unchanged") {
		t.Errorf("second scan: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestScanAlpineOffline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	vr := scanJSON(t, "--db", db, "scan", "--only", "alpine", "--feed", "alpine=file://"+filepath.Join(root, "testdata/feeds/alpine"),
		"--format", "json", "docker-archive:"+filepath.Join(root, "testdata/images/alpine-3.18.9.tar"))
	if len(vr.Packages) < 10 {
		t.Fatalf("%d packages", len(vr.Packages))
	}
	for _, p := range vr.Packages {
		if p.Ecosystem != "apk" || p.Source == nil || p.Source.Name == "" {
			t.Errorf("package %+v", p)
		}
	}
}

func TestScanUbuntuOffline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	vr := scanJSON(t, "--db", db, "scan", "--only", "ubuntu", "--feed", "ubuntu=file://"+filepath.Join(root, "testdata/feeds/ubuntu")+"/",
		"--format", "json", "docker-archive:"+filepath.Join(root, "testdata/images/ubuntu-20.04.tar"))
	p := pairs(vr)
	// UBUNTU-CVE-2016-20013 lists glibc for Ubuntu:Pro:20.04:LTS with no fix.
	if fixed, ok := p["libc6 CVE-2016-20013"]; !ok || fixed != "" {
		t.Errorf("libc6 CVE-2016-20013: present %v, fixed %q; pairs %v", ok, fixed, p)
	}
}

func TestTableOutput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	out, errOut, code := clairctl(t, "--db", db, "scan", "--only", "debian", "--feed", "debian=file://"+filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"),
		"docker-archive:"+filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "PACKAGE") || !strings.HasPrefix(lines[len(lines)-1], "Total: ") {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.Contains(out, "unfixed") {
		t.Error("no unfixed row")
	}
	if !strings.Contains(errOut, "Updating vulnerability feeds") {
		t.Errorf("stderr does not say the feeds were updated: %s", errOut)
	}
	// Most severe first.
	sev := func(l string) vuln.Severity {
		for _, f := range strings.Fields(l) {
			if s, err := vuln.ParseSeverity(f); err == nil {
				return s
			}
		}
		return vuln.Unknown
	}
	for i := 2; i < len(lines)-1; i++ {
		if sev(lines[i]) > sev(lines[i-1]) {
			t.Fatalf("line %d more severe than line %d:\n%s\n%s", i, i-1, lines[i-1], lines[i])
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "clair.db")
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"openssl": {"CVE-2023-0001": {"releases": {"bullseye": {"status": "resol`), 0o644); err != nil {
		t.Fatal(err)
	}
	good := "file://" + filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json")
	img := "docker-archive:" + filepath.Join(root, "testdata/images/debian-11-nginx.tar")
	before := pairs(scanJSON(t, "--db", db, "scan", "--only", "debian", "--feed", "debian="+good, "--format", "json", img))

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"update", "--only", "debian", "--feed", "debian=file://" + broken}, "debian"},
		{[]string{"update", "--only", "nosuchfeed"}, "unknown feed"},
		{[]string{"update", "--feed", "debian=ftp://example.invalid/x.json", "--only", "debian"}, "ftp"},
		{[]string{"scan", "--skip-update", "docker-archive:" + filepath.Join(dir, "missing.tar")}, "missing.tar"},
		{[]string{"scan", "--skip-update", "--format", "xml", img}, "--format"},
	}
	for _, c := range cases {
		_, errOut, code := clairctl(t, append([]string{"--db", db}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		last := lines[len(lines)-1]
		if code == 0 || !strings.HasPrefix(last, "clairctl: ") || !strings.Contains(last, c.want) {
			t.Errorf("%v: exit %d, stderr:\n%s", c.args, code, errOut)
		}
	}
	// The failed update left the previous snapshot serving.
	after := pairs(scanJSON(t, "--db", db, "scan", "--skip-update", "--format", "json", img))
	if len(after) != len(before) {
		t.Errorf("after a failed update: %d pairs, before: %d", len(after), len(before))
	}
}

func TestNoDataIsAnError(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	_, errOut, code := clairctl(t, "--db", db, "scan", "--skip-update", "docker-archive:"+filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	if code == 0 || !strings.Contains(errOut, "no vulnerability data for debian") {
		t.Errorf("exit %d, stderr: %s", code, errOut)
	}
}

// TestCrossCheckDebian compares the scanner's (package, CVE) pairs with an
// independent computation (tools/crosscheck/debian.py: its own status and
// tracker parsing, dpkg's version comparison through python3-apt) on real
// images against the full-size tracker JSON.
func TestCrossCheckDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import apt_pkg").Run(); err != nil {
		t.Skip("python3-apt is not installed; the independent check needs apt_pkg")
	}
	shared := filepath.Join(root, "..", "shared", "testdata")
	tracker := filepath.Join(shared, "feeds/debian/tracker-json-from-osv.json.gz")
	if _, err := os.Stat(tracker); err != nil {
		t.Skip("../shared/testdata is absent: the full-size tracker JSON is needed")
	}
	dir := t.TempDir()
	// The feed reads plain JSON, as the tracker serves it.
	plain := filepath.Join(dir, "tracker.json")
	if out, err := exec.Command("sh", "-c", "gzip -dc "+tracker+" > "+plain).CombinedOutput(); err != nil {
		t.Fatalf("gunzip: %v: %s", err, out)
	}
	db := filepath.Join(dir, "clair.db")
	if _, errOut, code := clairctl(t, "--db", db, "update", "--only", "debian", "--feed", "debian=file://"+plain); code != 0 {
		t.Fatalf("update: %s", errOut)
	}
	for _, c := range []struct{ rootfs, codename string }{
		{"debian-11-nginx", "bullseye"},
		{"debian-12-python3.12-slim-langflow", "bookworm"},
	} {
		t.Run(c.rootfs, func(t *testing.T) {
			rootfs := filepath.Join(shared, "pkgdb/rootfs", c.rootfs)
			img := buildImage(t, rootfs)
			got := pairs(scanJSON(t, "--db", db, "scan", "--skip-update", "--format", "json", "docker-archive:"+img))
			out, err := exec.Command(py, filepath.Join(root, "tools/crosscheck/debian.py"), filepath.Join(rootfs, "var/lib/dpkg/status"), plain, c.codename).Output()
			if err != nil {
				t.Fatalf("crosscheck: %v", err)
			}
			want := map[string]string{}
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			tp := 0
			for k, fixed := range want {
				g, ok := got[k]
				switch {
				case !ok:
					t.Errorf("missed %s (fixed %q)", k, fixed)
				case g != fixed:
					t.Errorf("%s: fixed %q, independent says %q", k, g, fixed)
					tp++
				default:
					tp++
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("extra %s", k)
				}
			}
			t.Logf("%s: %d pairs, independent %d, agreeing %d", c.rootfs, len(got), len(want), tp)
			if len(want) < 100 {
				t.Errorf("only %d expected pairs: the check is too weak", len(want))
			}
		})
	}
}

// buildImage writes a docker-archive of a real rootfs folder.
func buildImage(t *testing.T, rootfs string) string {
	t.Helper()
	entries, err := imagetest.DirEntries(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	l, err := imagetest.LayerTar(entries)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagetest.Image(l)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := imagetest.WriteDockerArchive(path, "example.invalid/test:latest", img); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTuneGC: clairctl collects less often unless GOGC or GOMEMLIMIT says
// otherwise, and each variable, when set, wins.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	tuneGC(env(nil))
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != gcLimit {
		t.Errorf("memory limit %d, want %d", got, gcLimit)
	}

	debug.SetGCPercent(77)
	debug.SetMemoryLimit(12345678)
	tuneGC(env(map[string]string{"GOGC": "77", "GOMEMLIMIT": "12345678"}))
	if got := debug.SetGCPercent(100); got != 77 {
		t.Errorf("GOGC set: GC percent %d, want it left at 77", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 12345678 {
		t.Errorf("GOMEMLIMIT set: limit %d, want it left", got)
	}
}

// TestGCTuned: the commands that match and render a report collect less
// often; those that hold whole feeds keep Go's default.
func TestGCTuned(t *testing.T) {
	for args, want := range map[string]bool{
		"scan -q debian:12":              true,
		"diff a b":                       true,
		"sbom x":                         true,
		"update --only debian":           false,
		"import-updaters bundle.tar.zst": false,
		"--version":                      false,
		"":                               false,
	} {
		if got := gcTuned(strings.Fields(args)); got != want {
			t.Errorf("gcTuned(%q) = %v, want %v", args, got, want)
		}
	}
}
