package storetest

import (
	"reflect"
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// testNamespaces checks the store's Catalog.
func testNamespaces(t *testing.T, s store.Store) {
	nl := store.Catalog(s)
	ctx := t.Context()
	deb := func(pkg, name, fixed string) *vuln.Advisory {
		a := adv("debian", "debian:12", pkg, name, fixed)
		a.Description, a.Links = "about "+name, []string{"https://security-tracker.debian.org/tracker/" + name}
		return a
	}
	replace(t, s, "debian", "fp1", []*vuln.Advisory{
		deb("openssl", "CVE-2024-0001", "3.0.1"),
		deb("curl", "CVE-2024-0001", "7.88.1-10"),
		deb("curl", "CVE-2023-0002", ""),
		deb("zlib", "TEMP-0000000-ABCDEF", ""),
		adv("debian", "debian:11", "zlib", "CVE-2022-9", "1:1.2"),
	})
	replace(t, s, "alpine", "fp1", []*vuln.Advisory{adv("alpine", "alpine:v3.18", "musl", "CVE-2024-1", "1.2.4-r1")})

	nss, err := nl.Namespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"debian:12": "dpkg", "debian:11": "dpkg", "alpine:v3.18": "dpkg"}
	if !reflect.DeepEqual(nss, want) {
		t.Errorf("Namespaces = %v, want %v", nss, want)
	}

	var all []string
	after := ""
	for {
		page, err := nl.NamespaceVulnerabilities(ctx, "debian:12", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if w := []string{"CVE-2023-0002", "CVE-2024-0001", "TEMP-0000000-ABCDEF"}; !reflect.DeepEqual(all, w) {
		t.Errorf("paged names = %v, want %v", all, w)
	}
	if got, _ := nl.NamespaceVulnerabilities(ctx, "debian:13", "", 10); len(got) != 0 {
		t.Errorf("unknown namespace: %v", got)
	}

	advs, err := nl.Vulnerability(ctx, "debian:12", "CVE-2024-0001")
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 2 || advs[0].Package != "curl" || advs[1].Package != "openssl" || advs[1].FixedIn != "3.0.1" ||
		advs[0].Description != "about CVE-2024-0001" || len(advs[0].Links) != 1 {
		t.Errorf("Vulnerability = %s", dump(advs))
	}
	if advs, err := nl.Vulnerability(ctx, "debian:12", "CVE-2024-000"); err != nil || len(advs) != 0 {
		t.Errorf("a name's prefix matched: %s %v", dump(advs), err)
	}
}
