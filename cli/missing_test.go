package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
)

// TestMissingData: a distribution no feed covers (Fedora 42's os-release
// over a real 129-package rpmdb) and an empty dir: are warnings on stderr
// and in the report, and fail a gate with exit 3.
func TestMissingData(t *testing.T) {
	osRelease := sharedtest.Path(t, "pkgdb/os-release/trivy/release/fedora")
	rpmdb := sharedtest.Path(t, "pkgdb/rpm/cbl-mariner-2.0-rpmdb.sqlite")
	fedora := t.TempDir()
	for src, dst := range map[string]string{osRelease: "etc/os-release", rpmdb: "var/lib/rpm/rpmdb.sqlite"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(fedora, filepath.Dir(dst)), 0o755)
		if err := os.WriteFile(filepath.Join(fedora, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	db := filepath.Join(t.TempDir(), "clair.db")
	const fedoraWarning = "Fedora Linux 42 (Container Image): no vulnerability feed covers this distribution; its 129 packages were not checked"
	for _, c := range []struct {
		image, warning string
	}{
		{"dir:" + fedora, fedoraWarning},
		{"dir:" + empty, "no packages found in dir:" + empty + ": nothing was checked"},
	} {
		out, errOut, code := clairctl(t, "scan", "--db", db, "--format", "json", c.image)
		if code != 0 || !strings.Contains(errOut, "warning: "+c.warning) {
			t.Errorf("%s: exit %d, stderr: %s", c.image, code, errOut)
		}
		if d := decodeDoc(t, out); len(d.Warnings) != 1 || d.Warnings[0] != c.warning {
			t.Errorf("%s: JSON warnings %q", c.image, d.Warnings)
		}
		_, errOut, code = clairctl(t, "scan", "--db", db, "--fail-on", "Critical", c.image)
		if code != 3 || !strings.Contains(errOut, "gate: no data to judge the image by") {
			t.Errorf("%s --fail-on: exit %d, stderr: %s", c.image, code, errOut)
		}
	}
	out, _, _ := clairctl(t, "scan", "--db", db, "dir:"+fedora)
	if !strings.Contains(out, "Warning: "+fedoraWarning) || !strings.Contains(out, "in 0 of 129 packages") {
		t.Errorf("table:\n%s", out)
	}
}

// TestFeedFlagsValidated: scan and update reject the same bad feed flags,
// before any work (the image here does not exist: the error is the flag's).
func TestFeedFlagsValidated(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	for _, cmd := range [][]string{{"scan", "docker-archive:/nonexistent.tar"}, {"update"}, {"diff", "docker-archive:/a.tar", "docker-archive:/b.tar"}} {
		for _, c := range []struct {
			flags []string
			want  string
		}{
			{[]string{"--only", "nope"}, `--only: unknown feed "nope"`},
			{[]string{"--feed", "debian"}, `--feed "debian": want NAME=URL`},
			{[]string{"--feed", "nope=file:///x"}, `unknown feed "nope"`},
			{[]string{"--format", "yaml"}, `--format "yaml"`},
			{[]string{"--vex", "/nonexistent.json"}, `--vex: suppress: open /nonexistent.json`},
		} {
			if cmd[0] == "update" && (c.flags[0] == "--format" || c.flags[0] == "--vex") {
				continue
			}
			args := append(append([]string{cmd[0], "--db", db}, c.flags...), cmd[1:]...)
			_, errOut, code := clairctl(t, args...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("%v: exit %d, stderr %s", args, code, errOut)
			}
		}
	}
}

// TestUpdateFeedAlone: --feed NAME=URL without --only updates that feed
// alone (offline, no other feed is tried).
func TestUpdateFeedAlone(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	feedURL := "file://" + abs(t, filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"))
	_, errOut, code := clairctl(t, "update", "--db", db, "--feed", "debian="+feedURL)
	if code != 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 1 || !strings.Contains(errOut, "debian   updated: 1894 advisories in ") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	// Durations are in seconds, and -q prints nothing on success.
	if !strings.HasSuffix(strings.TrimSpace(errOut), "s") {
		t.Errorf("duration: %s", errOut)
	}
	_, errOut, code = clairctl(t, "update", "-q", "--db", db, "--feed", "debian="+feedURL)
	if code != 0 || errOut != "" {
		t.Errorf("-q: exit %d, stderr %q", code, errOut)
	}
}

// TestLogSeconds: durations in logs are seconds, a number.
func TestLogSeconds(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	feedURL := "file://" + abs(t, filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"))
	_, errOut, code := clairctl(t, "update", "-v", "--db", db, "--feed", "debian="+feedURL)
	if code != 0 || !regexp.MustCompile(`msg="feed updated" feed=debian .* seconds=[0-9.e-]+\n`).MatchString(errOut) {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

// TestStaleFeedWarning: a feed that cannot be updated is a warning on
// stderr and in the report, and the scan goes on with the stored data.
func TestStaleFeedWarning(t *testing.T) {
	db, img := debianScan(t)
	out, errOut, code := clairctl(t, "scan", "--db", db, "--feed", "debian=file:///nonexistent/debian.json", "--format", "json", img)
	const w = "some feeds could not be updated; using the data already stored"
	if code != 0 || !strings.Contains(errOut, "warning: "+w) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if d := decodeDoc(t, out); len(d.Warnings) != 1 || d.Warnings[0] != w || len(d.PackageVulnerabilities) == 0 {
		t.Errorf("warnings %q", d.Warnings)
	}
}
