package cli

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gzipFile writes src gzip-compressed to a new file, as mirrors keep
// tracker.json.gz.
func gzipFile(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	p := filepath.Join(t.TempDir(), filepath.Base(src)+".gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScanCompressedFeed: --feed debian=file://…/tracker.json.gz works
// (it failed with "invalid character '\x1f'").
func TestScanCompressedFeed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	gz := gzipFile(t, filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"))
	vr := scanJSON(t, "--db", db, "scan", "--only", "debian", "--feed", "debian=file://"+gz, "--format", "json",
		"docker-archive:"+filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	if fixed := pairs(vr)["bsdutils CVE-2024-28085"]; fixed != "2.36.1-8+deb11u2" {
		t.Errorf("bsdutils CVE-2024-28085 from the gzip feed: fixed %q", fixed)
	}
}

// TestScanFailedUpdateAdvice: when the update an image needs fails, the
// error says so instead of advising to give --feed, which was given.
func TestScanFailedUpdateAdvice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	bad := filepath.Join(t.TempDir(), "tracker.json")
	if err := os.WriteFile(bad, []byte("{\"x\": "), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := clairctl(t, "--db", db, "scan", "--only", "debian", "--feed", "debian=file://"+bad,
		"docker-archive:"+filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	if code == 0 || !strings.Contains(errOut, "no vulnerability data for debian: its update failed") || strings.Contains(errOut, "NAME=URL") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

// TestUpdateForce: an empty but valid tracker ("{}") does not replace the
// stored advisories unless --force.
func TestUpdateForce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clair.db")
	good := "debian=file://" + filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json")
	if _, errOut, code := clairctl(t, "--db", db, "update", "--only", "debian", "--feed", good); code != 0 {
		t.Fatalf("update: %d %s", code, errOut)
	}
	empty := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(empty, []byte("{}"), 0o644)
	_, errOut, code := clairctl(t, "--db", db, "update", "--only", "debian", "--feed", "debian=file://"+empty)
	if code == 0 || !strings.Contains(errOut, "refused") || !strings.Contains(errOut, "--force") {
		t.Fatalf("empty tracker: exit %d, stderr:\n%s", code, errOut)
	}
	_, errOut, code = clairctl(t, "--db", db, "update", "--only", "debian", "--feed", "debian=file://"+empty, "--force")
	if code != 0 || !strings.Contains(errOut, "updated: 0 advisories") {
		t.Fatalf("--force: exit %d, stderr:\n%s", code, errOut)
	}
}

// TestExportImportUpdaters: export-updaters writes the feeds of the
// repository's excerpts into one file; import-updaters loads it into an
// empty database, where a scan without updating finds the vulnerabilities;
// a second import skips every feed.
func TestExportImportUpdaters(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "updates.tar.zst")
	_, errOut, code := clairctl(t, "export-updaters", "--only", "debian,alpine",
		"--feed", "debian=file://"+filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"),
		"--feed", "alpine=file://"+filepath.Join(root, "testdata/feeds/alpine"), bundle)
	if code != 0 || !strings.Contains(errOut, "2 feeds") {
		t.Fatalf("export: exit %d, stderr:\n%s", code, errOut)
	}
	db := filepath.Join(t.TempDir(), "air-gapped.db")
	_, errOut, code = clairctl(t, "--db", db, "import-updaters", bundle)
	if code != 0 || strings.Count(errOut, "imported:") != 2 {
		t.Fatalf("import: exit %d, stderr:\n%s", code, errOut)
	}
	_, errOut, code = clairctl(t, "--db", db, "import-updaters", "file://"+bundle)
	if code != 0 || strings.Count(errOut, "unchanged:") != 2 {
		t.Fatalf("second import: exit %d, stderr:\n%s", code, errOut)
	}
	vr := scanJSON(t, "--db", db, "scan", "--skip-update", "--format", "json",
		"docker-archive:"+filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	if fixed := pairs(vr)["bsdutils CVE-2024-28085"]; fixed != "2.36.1-8+deb11u2" {
		t.Errorf("bsdutils CVE-2024-28085 from the imported bundle: fixed %q", fixed)
	}
	if _, errOut, code := clairctl(t, "--db", db, "import-updaters", filepath.Join(t.TempDir(), "missing.tar.zst")); code == 0 {
		t.Errorf("missing bundle: exit 0: %s", errOut)
	}

	// --config: the matcher's connstring of a server config names the
	// database.
	db2 := filepath.Join(t.TempDir(), "server.db")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("matcher:\n  connstring: sqlite:"+db2+"\n  disable_updaters: true\n"), 0o644)
	_, errOut, code = clairctl(t, "import-updaters", "--config", cfg, bundle)
	if code != 0 || strings.Count(errOut, "imported:") != 2 {
		t.Fatalf("import --config: exit %d, stderr:\n%s", code, errOut)
	}
	if fi, err := os.Stat(db2); err != nil || fi.Size() == 0 {
		t.Errorf("--config's database %s not written: %v", db2, err)
	}
}

// TestExportUpdatersFails: a feed that cannot be fetched fails the export,
// and no bundle is left behind.
func TestExportUpdatersFails(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "updates.tar.zst")
	_, errOut, code := clairctl(t, "export-updaters", "--only", "debian,alpine",
		"--feed", "debian=file://"+filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json"),
		"--feed", "alpine=file://"+filepath.Join(t.TempDir(), "no-such-mirror"), bundle)
	if code == 0 || !strings.Contains(errOut, "alpine") {
		t.Errorf("export with a missing feed: exit %d, stderr:\n%s", code, errOut)
	}
	if ents, _ := os.ReadDir(filepath.Dir(bundle)); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}
