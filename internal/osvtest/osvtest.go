// Package osvtest holds test helpers that run osv.dev's real exports, staged
// in ../shared/testdata/feeds/osv, through the OSV feed's own parser and check
// advisories against the version schemes.
//
// It imports feed/osv, so the in-package tests of feed/osv cannot use it.
// Affected and CheckAllBounds look schemes up in the version registry: the
// calling test must import the scheme's package.
package osvtest

import (
	"bytes"
	"context"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/openclair/clair/feed/osv"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

var cache struct {
	sync.Mutex
	m map[[2]string][]*vuln.Advisory
}

// Advisories parses the real osv.dev export of one ecosystem,
// ../shared/testdata/feeds/osv/<ecosystemZip>.zip (ecosystemZip as osv.dev
// names it: "Maven", "crates.io", ...), with the feed's own Parse and returns
// the advisories of namespace. It skips the test when the export is absent.
// Results are cached for the test binary: callers must not modify them.
func Advisories(t testing.TB, ecosystemZip, namespace string) []*vuln.Advisory {
	t.Helper()
	p := sharedtest.Path(t, "feeds/osv/"+ecosystemZip+".zip")
	key := [2]string{p, namespace}
	cache.Lock()
	defer cache.Unlock()
	if advs, ok := cache.m[key]; ok {
		return advs
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := []*vuln.Advisory{}
	err = osv.New().Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		if a.Namespace == namespace {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no advisories of namespace %q", p, namespace)
	}
	if cache.m == nil {
		cache.m = map[[2]string][]*vuln.Advisory{}
	}
	cache.m[key] = out
	return out
}

// Affected applies vuln.Advisory's documented range semantics with the scheme
// registered under the advisory's VersionFormat: installed is affected when
// the advisory lists it, or when it is at or above a range's Introduced and
// below its Fixed or at or below its LastAffected (or the range has neither).
func Affected(t testing.TB, a *vuln.Advisory, installed string) bool {
	t.Helper()
	s, ok := version.Lookup(a.VersionFormat)
	if !ok {
		t.Fatalf("%s: no scheme %q (does the test import its package?)", a.Name, a.VersionFormat)
	}
	v, err := s.Parse(installed)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(a.Versions, installed) {
		return true
	}
	parse := func(b string) version.Version {
		pv, err := s.Parse(b)
		if err != nil {
			t.Fatalf("%s: bound %q: %v", a.Name, b, err)
		}
		return pv
	}
	for _, r := range a.Ranges {
		if r.Introduced != "" && v.Compare(parse(r.Introduced)) < 0 {
			continue
		}
		switch {
		case r.Fixed != "" && v.Compare(parse(r.Fixed)) >= 0:
		case r.LastAffected != "" && v.Compare(parse(r.LastAffected)) > 0:
		default:
			return true
		}
	}
	return false
}

// CheckAllBounds parses every range bound and listed version of the
// advisories with scheme; it returns how many did not parse, after logging
// the first few.
func CheckAllBounds(t testing.TB, scheme version.Scheme, advs []*vuln.Advisory) int {
	t.Helper()
	bad := 0
	try := func(a *vuln.Advisory, v string) {
		if v == "" {
			return
		}
		if _, err := scheme.Parse(v); err != nil {
			if bad < 10 {
				t.Logf("%s %s: %v", a.Package, a.Name, err)
			}
			bad++
		}
	}
	for _, a := range advs {
		for _, r := range a.Ranges {
			try(a, r.Introduced)
			try(a, r.Fixed)
			try(a, r.LastAffected)
		}
		for _, v := range a.Versions {
			try(a, v)
		}
	}
	return bad
}

// Find returns the advisory name of package pkg, failing the test when the
// advisories have none.
func Find(t testing.TB, advs []*vuln.Advisory, pkg, name string) *vuln.Advisory {
	t.Helper()
	for _, a := range advs {
		if a.Package == pkg && a.Name == name {
			return a
		}
	}
	t.Fatalf("no advisory %s for %s in the export", name, pkg)
	return nil
}
