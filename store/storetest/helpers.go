package storetest

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

func sampleReport(manifest string) *vuln.IndexReport {
	src := &vuln.Package{ID: "2", Name: "glibc", Version: "2.36-9+deb12u4", Kind: vuln.KindSource}
	return &vuln.IndexReport{
		ManifestHash: manifest,
		State:        vuln.IndexFinished,
		Packages: map[string]*vuln.Package{
			"1": {ID: "1", Name: "libc6", Version: "2.36-9+deb12u4", Kind: vuln.KindBinary, Source: src,
				Arch: "amd64", PackageDB: "var/lib/dpkg/status", Ecosystem: "dpkg", Purl: "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64"},
		},
		Distributions: map[string]*vuln.Distribution{
			"1": {ID: "1", DID: "debian", Name: "Debian GNU/Linux", Version: "12 (bookworm)", VersionCodeName: "bookworm",
				VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
		},
		Repositories: map[string]*vuln.Repository{"1": {ID: "1", Name: "debian"}},
		Environments: map[string][]*vuln.Environment{
			"1": {{PackageDB: "var/lib/dpkg/status", IntroducedIn: "sha256:aaaa", DistributionID: "1", RepositoryIDs: []string{"1"}}},
		},
		Success:  true,
		Layers:   []string{"sha256:aaaa", "sha256:bbbb"},
		Warnings: []string{"a wärning"},
	}
}

// adv builds a full advisory, details included.
func adv(feed, ns, pkg, name, fixed string) *vuln.Advisory {
	a := &vuln.Advisory{
		Feed: feed, Name: name, Namespace: ns, Package: pkg, VersionFormat: "dpkg",
		State: vuln.StateAffected, Ranges: []vuln.Range{{Fixed: fixed}}, FixedIn: fixed,
		Severity: "high", NormalizedSeverity: vuln.High,
		Description: "description of " + name,
		Links:       []string{"https://security-tracker.debian.org/tracker/" + name},
		Issued:      time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC),
		Aliases:     []string{"DSA-" + name},
	}
	if fixed == "" {
		a.State, a.Ranges = vuln.StateUnfixed, nil
	}
	return a
}

// bare is a copy of a without its details, as Advisories returns it.
func bare(a *vuln.Advisory) *vuln.Advisory {
	c := *a
	c.Description, c.Links, c.Issued, c.Aliases = "", nil, time.Time{}, nil
	return &c
}

func bareAll(as []*vuln.Advisory) []*vuln.Advisory {
	out := make([]*vuln.Advisory, len(as))
	for i, a := range as {
		out[i] = bare(a)
	}
	return out
}

// replace runs ReplaceFeed emitting advs.
func replace(t *testing.T, s store.Store, feed, fp string, advs []*vuln.Advisory) store.UpdateOperation {
	t.Helper()
	op, err := s.ReplaceFeed(t.Context(), feed, fp, func(emit func(*vuln.Advisory) error) error {
		for _, a := range advs {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReplaceFeed(%s, %s): %v", feed, fp, err)
	}
	return op
}

// sortAdvs orders advisories for comparison; stores return them in any order.
func sortAdvs(as []*vuln.Advisory) {
	slices.SortStableFunc(as, func(a, b *vuln.Advisory) int {
		return cmp.Or(cmp.Compare(a.Feed, b.Feed), cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Package, b.Package), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.FixedIn, b.FixedIn), cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)))
	})
}

// normalize maps empty slices to nil: stores need not keep the difference.
func normalize(as []*vuln.Advisory) {
	for _, a := range as {
		if len(a.Ranges) == 0 {
			a.Ranges = nil
		}
		if len(a.Versions) == 0 {
			a.Versions = nil
		}
		if len(a.Links) == 0 {
			a.Links = nil
		}
		if len(a.Aliases) == 0 {
			a.Aliases = nil
		}
	}
}

// sameAdvs fails unless got and want hold the same advisories in any order.
// Issued compares with Equal (stores may change its location).
func sameAdvs(t *testing.T, what string, got, want []*vuln.Advisory) {
	t.Helper()
	got = copyAdvs(got)
	normalize(got)
	want = copyAdvs(want)
	normalize(want)
	sortAdvs(got)
	sortAdvs(want)
	if len(got) != len(want) {
		t.Fatalf("%s: got %d advisories, want %d:\ngot  %s\nwant %s", what, len(got), len(want), dump(got), dump(want))
	}
	for i := range got {
		g, w := *got[i], *want[i]
		if !g.Issued.Equal(w.Issued) {
			t.Fatalf("%s: advisory %d Issued = %v, want %v", what, i, g.Issued, w.Issued)
		}
		g.Issued, w.Issued = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: advisory %d:\ngot  %s\nwant %s", what, i, dump([]*vuln.Advisory{&g}), dump([]*vuln.Advisory{&w}))
		}
	}
}

// copyAdvs copies the advisories so that normalize does not change the
// caller's.
func copyAdvs(as []*vuln.Advisory) []*vuln.Advisory {
	out := make([]*vuln.Advisory, len(as))
	for i, a := range as {
		c := *a
		out[i] = &c
	}
	return out
}

func dump(as []*vuln.Advisory) string {
	var b bytes.Buffer
	for _, a := range as {
		fmt.Fprintf(&b, "\n\t%+v", *a)
	}
	return b.String()
}

func query(t *testing.T, s store.Store, ns string, pkgs ...string) []*vuln.Advisory {
	t.Helper()
	got, err := s.Advisories(t.Context(), ns, pkgs)
	if err != nil {
		t.Fatalf("Advisories(%s, %q): %v", ns, pkgs, err)
	}
	return got
}

func feedStateEqual(a, b store.FeedState) bool {
	return a.Feed == b.Feed && a.Fingerprint == b.Fingerprint && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.CheckedAt.Equal(b.CheckedAt) && a.Advisories == b.Advisories && a.Operation == b.Operation
}

// snapshot is what rollback tests compare before and after.
func snapshot(t *testing.T, s store.Store) (store.FeedState, []*vuln.Advisory) {
	t.Helper()
	st, err := s.FeedState(t.Context(), "debian")
	if err != nil {
		t.Fatalf("FeedState: %v", err)
	}
	got := query(t, s, "debian:12", "glibc", "openssl", "new")
	if err := s.Details(t.Context(), got); err != nil {
		t.Fatalf("Details: %v", err)
	}
	return st, got
}

func rollbackSetup(t *testing.T, s store.Store) (store.FeedState, []*vuln.Advisory) {
	replace(t, s, "debian", "fp1", []*vuln.Advisory{
		adv("debian", "debian:12", "glibc", "CVE-2024-0001", "2.36-9+deb12u5"),
		adv("debian", "debian:12", "openssl", "CVE-2024-0003", ""),
	})
	st, advs := snapshot(t, s)
	if len(advs) != 2 {
		t.Fatalf("setup: %d advisories, want 2", len(advs))
	}
	return st, advs
}

func checkIntact(t *testing.T, s store.Store, st store.FeedState, advs []*vuln.Advisory) {
	t.Helper()
	st2, advs2 := snapshot(t, s)
	if !feedStateEqual(st, st2) {
		t.Fatalf("FeedState after a failed update = %+v, want %+v", st2, st)
	}
	sameAdvs(t, "after a failed update", advs2, advs)
}
