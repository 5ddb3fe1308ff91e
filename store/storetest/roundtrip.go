package storetest

import (
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

func testStringsRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	advs := []*vuln.Advisory{
		{Feed: "ünï", Name: "CVE-ü-1", Namespace: "débian:12", Package: "пакет", VersionFormat: "dpkg",
			State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: "1:2.3~ü"}}, FixedIn: "1:2.3~ü",
			Severity: "très haute 🔥", NormalizedSeverity: vuln.Critical,
			Description: "日本語の説明 'quoted' \"double\" \\ back\nslash\ttab\u2028", Links: []string{"https://例え.jp/?q=1&r='2'"},
			Aliases: []string{"", "ALIAS-ü"}},
		// Empty strings everywhere they can be.
		{Feed: "ünï", Name: "", Namespace: "", Package: "", VersionFormat: "", State: "", FixedIn: "", Severity: ""},
		{Feed: "ünï", Name: "E", Namespace: "", Package: "", Ranges: []vuln.Range{{}}, Versions: []string{""}},
		{Feed: "ünï", Name: "%_'?", Namespace: "%", Package: "_", State: vuln.StateNotAffected},
	}
	replace(t, s, "ünï", "指纹 '\"", advs)
	if st, err := s.FeedState(ctx, "ünï"); err != nil || st.Fingerprint != "指纹 '\"" {
		t.Fatalf("FeedState = %+v, %v; want the unicode fingerprint", st, err)
	}
	got := query(t, s, "débian:12", "пакет")
	sameAdvs(t, "unicode", got, bareAll(advs[:1]))
	if err := s.Details(ctx, got); err != nil {
		t.Fatalf("Details: %v", err)
	}
	sameAdvs(t, "unicode details", got, advs[:1])
	sameAdvs(t, "empty strings", query(t, s, "", ""), bareAll(advs[1:3]))
	// LIKE metacharacters are plain characters.
	sameAdvs(t, "metacharacters", query(t, s, "%", "_"), bareAll(advs[3:]))
	sameAdvs(t, "no wildcard match", query(t, s, "%", "%"), nil)
}

func testRangesRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := func(name string) *vuln.Advisory {
		return &vuln.Advisory{Feed: "osv", Name: name, Namespace: "pypi", Package: "django", VersionFormat: "pep440"}
	}
	var advs []*vuln.Advisory
	add := func(name string, f func(a *vuln.Advisory)) {
		a := base(name)
		f(a)
		advs = append(advs, a)
	}
	add("none", func(a *vuln.Advisory) { a.State = vuln.StateUnfixed })
	add("fixed", func(a *vuln.Advisory) {
		a.State, a.Ranges, a.FixedIn = vuln.StateAffected, []vuln.Range{{Fixed: "4.2.1"}}, "4.2.1"
	})
	add("fixed-other", func(a *vuln.Advisory) { // the range and FixedIn disagree
		a.State, a.Ranges, a.FixedIn = vuln.StateAffected, []vuln.Range{{Fixed: "4.2.1"}}, "4.2.2"
	})
	add("fixed-no-fixedin", func(a *vuln.Advisory) {
		a.State, a.Ranges = vuln.StateAffected, []vuln.Range{{Fixed: "4.2.1"}}
	})
	add("fixedin-no-range", func(a *vuln.Advisory) { a.State, a.FixedIn = vuln.StateAffected, "4.2.1" })
	add("empty-range", func(a *vuln.Advisory) { a.Ranges = []vuln.Range{{}} })
	add("introduced", func(a *vuln.Advisory) {
		a.State, a.FixedIn = vuln.StateAffected, "4.2.1"
		a.Ranges = []vuln.Range{{Introduced: "4.0", Fixed: "4.2.1"}}
	})
	add("multi", func(a *vuln.Advisory) {
		a.State, a.FixedIn = vuln.StateAffected, "3.2.9"
		a.Ranges = []vuln.Range{{Introduced: "0", Fixed: "3.2.9"}, {Introduced: "4.0", LastAffected: "4.1.3"}, {LastAffected: "5"}}
	})
	add("fixed-and-versions", func(a *vuln.Advisory) {
		a.State, a.Ranges, a.FixedIn, a.Versions = vuln.StateAffected, []vuln.Range{{Fixed: "4.2.1"}}, "4.2.1", []string{"1.0", "1.1"}
	})
	add("versions", func(a *vuln.Advisory) { a.Versions = []string{"1.0", "", "2.0 beta", "1.0"} })
	add("wontfix", func(a *vuln.Advisory) { a.State = vuln.StateWontFix; a.NormalizedSeverity = vuln.Negligible })
	add("not-affected", func(a *vuln.Advisory) { a.State = vuln.StateNotAffected; a.NormalizedSeverity = vuln.Low })
	add("odd-state", func(a *vuln.Advisory) { a.State = "something_new"; a.NormalizedSeverity = vuln.Medium })
	add("severity", func(a *vuln.Advisory) { a.Severity, a.NormalizedSeverity = "CVSS:3.1/AV:N", vuln.Critical })
	add("json-ish", func(a *vuln.Advisory) {
		a.Ranges = []vuln.Range{{Introduced: `{"r":[]}`, Fixed: `"`, LastAffected: `\u0000`}}
		a.FixedIn = `"`
		a.Versions = []string{`["x"]`}
	})
	add("qualified", func(a *vuln.Advisory) {
		a.State, a.Ranges, a.FixedIn = vuln.StateAffected, []vuln.Range{{Fixed: "4.2.1"}}, "4.2.1"
		a.Arches, a.Module = []string{"x86_64", "noarch"}, "nodejs:18"
		a.Repositories = []string{"cpe:/a:redhat:enterprise_linux:9::appstream"}
	})
	add("qualified-unfixed", func(a *vuln.Advisory) { a.State, a.Arches = vuln.StateWontFix, []string{"aarch64"} })
	add("module-only", func(a *vuln.Advisory) { a.State, a.Module = vuln.StateUnfixed, "perl:5.32" })
	// Duplicates are kept: a store is not the place to dedupe a feed.
	add("fixed", func(a *vuln.Advisory) {
		a.State, a.Ranges, a.FixedIn = vuln.StateAffected, []vuln.Range{{Fixed: "4.2.1"}}, "4.2.1"
	})
	replace(t, s, "osv", "fp", advs)
	got := query(t, s, "pypi", "django")
	sameAdvs(t, "round trip", got, advs)
	// Each advisory owns its slices.
	for i, a := range got {
		for j, b := range got {
			if i != j && len(a.Ranges) > 0 && len(b.Ranges) > 0 && &a.Ranges[0] == &b.Ranges[0] {
				t.Fatalf("advisories %s and %s share a Ranges array", a.Name, b.Name)
			}
		}
	}
	if err := s.Details(ctx, got); err != nil {
		t.Fatalf("Details: %v", err)
	}
	sameAdvs(t, "round trip after Details", got, advs)
}
