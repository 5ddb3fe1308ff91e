package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/imagetest"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store/sqlite"
)

// TestScanSpringWithoutGroup scans a Debian 11 image holding Debian's real
// spring-beans jar (libspring-beans-java 4.3.30-2, see testdata/SOURCES.md)
// where the package puts it. The jar has no META-INF/maven and its manifest
// names no group, so the scanner finds the artifact "spring-beans" alone;
// the matcher takes org.springframework, the only group osv.dev's Maven
// export publishes spring-beans under, and reports Spring4Shell.
func TestScanSpringWithoutGroup(t *testing.T) {
	osvMaven := sharedtest.Path(t, "feeds/osv/Maven.zip")
	rootfs := sharedtest.Path(t, "pkgdb/rootfs/debian-11-nginx")
	if testing.Short() {
		t.Skip("short mode: reads osv.dev's 7 MB Maven export")
	}
	base, err := imagetest.DirEntries(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := imagetest.LayerTar(base)
	if err != nil {
		t.Fatal(err)
	}
	jar, err := os.ReadFile(filepath.Join(root, "testdata/java/spring3-beans-3.x.jar"))
	if err != nil {
		t.Fatal(err)
	}
	// A log4j-core repackaged without its Maven metadata: three groups
	// publish a log4j-core in the export, so it is not guessed at.
	log4j := jarOf(t, map[string]string{
		"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nImplementation-Title: log4j-core\r\nImplementation-Version: 2.14.1\r\n\r\n",
	})
	// The files and links of the Debian package.
	l2, err := imagetest.LayerTar([]imagetest.Entry{
		{Path: "opt/app/lib/log4j-core.jar", Content: log4j},
		{Path: "usr/share/java/spring3-beans-3.x.jar", Content: jar},
		{Path: "usr/share/java/spring3-beans.jar", Linkname: "spring3-beans-3.x.jar"},
		{Path: "usr/share/maven-repo/org/springframework/spring-beans/4.3.30.RELEASE/spring-beans-4.3.30.RELEASE.jar",
			Linkname: "../../../../../java/spring3-beans-3.x.jar"},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagetest.Image(l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := imagetest.WriteDockerArchive(path, "example.invalid/spring:latest", img); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := os.Symlink(mustAbs(t, osvMaven), filepath.Join(dir, "Maven.zip")); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "clair.db")
	if _, errOut, code := clairctl(t, "--db", db, "update", "--only", "osv", "--feed", "osv=file://"+dir); code != 0 {
		t.Fatalf("update: exit %d: %s", code, errOut)
	}
	deb := "debian=file://" + filepath.Join(root, "testdata/feeds/debian-bullseye-nginx.json")
	if _, errOut, code := clairctl(t, "--db", db, "update", "--only", "debian", "--feed", deb); code != 0 {
		t.Fatalf("update: exit %d: %s", code, errOut)
	}

	vr := scanJSON(t, "--db", db, "scan", "--skip-update", "--format", "json", "docker-archive:"+path)
	var found bool
	for id, p := range vr.Packages {
		if p.Ecosystem != "maven" || p.Path == "opt/app/lib/log4j-core.jar" {
			if p.Path == "opt/app/lib/log4j-core.jar" && (p.Name != "log4j-core" || len(vr.PackageVulnerabilities[id]) != 0) {
				t.Errorf("log4j-core without a group: reported as %q with %d vulnerabilities", p.Name, len(vr.PackageVulnerabilities[id]))
			}
			continue
		}
		found = true
		if p.Name != "org.springframework:spring-beans" || p.Version != "4.3.30.RELEASE" ||
			p.Purl != "pkg:maven/org.springframework/spring-beans@4.3.30.RELEASE" || p.Path != "usr/share/java/spring3-beans-3.x.jar" {
			t.Errorf("maven package %s: %+v, want org.springframework:spring-beans 4.3.30.RELEASE at usr/share/java/spring3-beans-3.x.jar", id, p)
		}
	}
	if !found {
		t.Fatal("no maven package found")
	}
	// GHSA-36p3-wjmg-h94x: before 5.2.20.RELEASE, and 5.3.0 to 5.3.18.
	var spring4shell bool
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			if vr.Packages[pid].Name == "org.springframework:spring-beans" && v.Name == "CVE-2022-22965" {
				spring4shell = true
				if v.FixedInVersion != "5.2.20.RELEASE" || !strings.Contains(strings.Join(v.Aliases, " "), "GHSA-36p3-wjmg-h94x") {
					t.Errorf("Spring4Shell: fixed in %q, aliases %v", v.FixedInVersion, v.Aliases)
				}
			}
		}
	}
	if !spring4shell {
		t.Errorf("Spring4Shell (CVE-2022-22965) not reported on spring-beans 4.3.30.RELEASE; %d pairs", len(pairs(vr)))
	}
	table, errOut, code := clairctl(t, "--db", db, "scan", "--skip-update", "docker-archive:"+path)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	if !strings.Contains(table, "org.springframework:spring-beans") || !strings.Contains(table, "CVE-2022-22965") {
		t.Errorf("table lacks org.springframework:spring-beans or CVE-2022-22965:\n%s", table)
	}
	if !strings.Contains(errOut, "several groups publish it") || !strings.Contains(errOut, "artifact=log4j-core") ||
		!strings.Contains(errOut, "org.apache.logging.log4j") {
		t.Errorf("no warning about log4j-core's group:\n%s", errOut)
	}

	// How often the group can be recovered at all: the artifacts of the
	// export that one group publishes, and those several do.
	st, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	names, err := st.PackageNames(t.Context(), "maven")
	if err != nil {
		t.Fatal(err)
	}
	unique, ambiguous := 0, 0
	groups := match.ArtifactGroups(names)
	for _, gs := range groups {
		if len(gs) == 1 {
			unique++
		} else {
			ambiguous++
		}
	}
	t.Logf("osv.dev Maven export: %d package names, %d artifacts: %d of one group, %d of several", len(names), len(groups), unique, ambiguous)
	if len(names) != 2426 || unique != 2315 || ambiguous != 53 {
		t.Errorf("%d names, %d unique, %d ambiguous; want 2426, 2315, 53", len(names), unique, ambiguous)
	}
	if g := groups["log4j-core"]; len(g) != 3 {
		t.Errorf("log4j-core groups: %v", g)
	}
}
