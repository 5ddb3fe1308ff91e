package storetest

import (
	"slices"
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// testPackageNames checks the store's PackageNames: every feed's names of the
// namespace, each once, in byte order; nothing of other namespaces; and a
// replaced snapshot's names gone.
func testPackageNames(t *testing.T, s store.Store) {
	pn := store.AdvisoryReader(s)
	ctx := t.Context()
	mvn := func(feed, pkg, name string) *vuln.Advisory {
		a := adv(feed, "maven", pkg, name, "5.3.18")
		a.VersionFormat = "maven"
		return a
	}
	replace(t, s, "osv", "fp1", []*vuln.Advisory{
		mvn("osv", "org.springframework:spring-beans", "GHSA-36p3-wjmg-h94x"),
		mvn("osv", "org.springframework:spring-beans", "GHSA-other"),
		mvn("osv", "org.apache.logging.log4j:log4j-core", "GHSA-jfh8-c2jp-5v3q"),
		mvn("osv", "Z.upper:sorts-first", "GHSA-z"),
		adv("osv", "pypi", "spring-beans", "PYSEC-1", "1.0"),
	})
	replace(t, s, "ghsa", "fp1", []*vuln.Advisory{
		mvn("ghsa", "org.apache.logging.log4j:log4j-core", "GHSA-jfh8-c2jp-5v3q"),
		mvn("ghsa", "com.example:spring-beans", "GHSA-x"),
	})
	want := []string{"Z.upper:sorts-first", "com.example:spring-beans",
		"org.apache.logging.log4j:log4j-core", "org.springframework:spring-beans"}
	got, err := pn.PackageNames(ctx, "maven")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("PackageNames(maven) = %q, want %q", got, want)
	}
	if got, err := pn.PackageNames(ctx, "npm"); err != nil || len(got) != 0 {
		t.Errorf("PackageNames(npm) = %q, %v; want none", got, err)
	}

	replace(t, s, "ghsa", "fp2", nil)
	want = slices.DeleteFunc(want, func(n string) bool { return n == "com.example:spring-beans" })
	if got, err := pn.PackageNames(ctx, "maven"); err != nil || !slices.Equal(got, want) {
		t.Errorf("after replacing ghsa: PackageNames(maven) = %q, %v; want %q", got, err, want)
	}
}
