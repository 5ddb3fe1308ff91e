// Package storetest is the conformance suite every store.Store passes: the
// embedded SQLite store and the PostgreSQL one run the same subtests, so the
// rest of Clair can rely on behaviour rather than on an implementation.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// Run runs the suite. open must return a new, empty store for each call and
// arrange (with t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"LayerScan", testLayerScan},
		{"IndexReport", testIndexReport},
		{"IndexReportVersion", testIndexReportVersion},
		{"Manifests", testManifests},
		{"Ping", testPing},
		{"PoolStats", testPoolStats},
		{"Namespaces", testNamespaces},
		{"PackageNames", testPackageNames},
		{"EnrichReplaceAndQuery", testEnrichReplaceAndQuery},
		{"EnrichLoadErrorKeepsPrevious", testEnrichLoadErrorKeepsPrevious},
		{"EnrichBadRecordsRejected", testEnrichBadRecords},
		{"EnrichIncrementCarriesOver", testEnrichIncrement},
		{"FeedStateNotFound", testFeedStateNotFound},
		{"ReplaceFeedAndQuery", testReplaceFeedAndQuery},
		{"ReplaceFeedReplaces", testReplaceFeedReplaces},
		{"ReplaceFeedEmpty", testReplaceFeedEmpty},
		{"LoadErrorRollsBack", testLoadErrorRollsBack},
		{"SwallowedEmitErrorRollsBack", testSwallowedEmitErrorRollsBack},
		{"CancelRollsBack", testCancelRollsBack},
		{"ForeignFeedRejected", testForeignFeedRejected},
		{"NULRejected", testNULRejected},
		{"TouchFeed", testTouchFeed},
		{"DetailsShared", testDetailsShared},
		{"ManyPackages", testManyPackages},
		{"StringsRoundTrip", testStringsRoundTrip},
		{"RangesRoundTrip", testRangesRoundTrip},
		{"Concurrent", testConcurrent},
		{"DeleteIndexReports", testDeleteIndexReports},
		{"UpdateOperations", testUpdateOperations},
		{"UpdateDiff", testUpdateDiff},
		{"UpdateDiffFromEmpty", testUpdateDiffFromEmpty},
		{"UpdateDiffErrors", testUpdateDiffErrors},
		{"UpdateDiffRollback", testUpdateDiffRollback},
		{"GC", testGC},
		{"TryLock", testTryLock},
		{"Lock", testLock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func testLayerScan(t *testing.T, s store.Store) {
	ctx := t.Context()
	const layer = "sha256:aaaa"
	if _, ok, err := s.LayerScan(ctx, layer, "dpkg", "1"); err != nil || ok {
		t.Fatalf("LayerScan of a layer never scanned: ok=%v err=%v, want false, nil", ok, err)
	}
	put := func(layer, scanner, version string, data []byte) {
		t.Helper()
		if err := s.PutLayerScan(ctx, layer, scanner, version, data); err != nil {
			t.Fatalf("PutLayerScan(%q, %q, %q): %v", layer, scanner, version, err)
		}
	}
	get := func(layer, scanner, version string, want []byte, wantOK bool) {
		t.Helper()
		got, ok, err := s.LayerScan(ctx, layer, scanner, version)
		if err != nil {
			t.Fatalf("LayerScan(%q, %q, %q): %v", layer, scanner, version, err)
		}
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("LayerScan(%q, %q, %q) = %q, %v; want %q, %v", layer, scanner, version, got, ok, want, wantOK)
		}
	}
	put(layer, "dpkg", "1", []byte(`{"packages":[1]}`))
	get(layer, "dpkg", "1", []byte(`{"packages":[1]}`), true)
	// Another scanner version or scanner is another scan.
	get(layer, "dpkg", "2", nil, false)
	get(layer, "apk", "1", nil, false)
	get("sha256:bbbb", "dpkg", "1", nil, false)
	put(layer, "dpkg", "2", []byte("v2"))
	get(layer, "dpkg", "1", []byte(`{"packages":[1]}`), true)
	get(layer, "dpkg", "2", []byte("v2"), true)
	// Replace.
	put(layer, "dpkg", "1", []byte("again"))
	get(layer, "dpkg", "1", []byte("again"), true)
	// Empty data is a scan that found nothing, not a missing scan.
	put(layer, "distro", "1", nil)
	get(layer, "distro", "1", nil, true)
	put(layer, "distro", "1", []byte{})
	get(layer, "distro", "1", []byte{}, true)
	// Binary data and odd keys.
	bin := []byte{0, 1, 2, 0xff, 0xfe, 0}
	put("", "", "", bin)
	get("", "", "", bin, true)
	put("sha256:ü'\"%?", "scänner", "版本", bin)
	get("sha256:ü'\"%?", "scänner", "版本", bin, true)
}

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

func testIndexReport(t *testing.T, s store.Store) {
	ctx := t.Context()
	const m = "sha256:1111"
	if _, err := s.IndexReport(ctx, m); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("IndexReport of a manifest never indexed: err = %v, want ErrNotFound", err)
	}
	r := sampleReport(m)
	if err := s.PutIndexReport(ctx, r); err != nil {
		t.Fatalf("PutIndexReport: %v", err)
	}
	got, err := s.IndexReport(ctx, m)
	if err != nil {
		t.Fatalf("IndexReport: %v", err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("IndexReport = %+v, want %+v", got, r)
	}
	other := sampleReport("sha256:2222")
	other.Success, other.State, other.Err = false, "IndexError", "boom"
	if err := s.PutIndexReport(ctx, other); err != nil {
		t.Fatalf("PutIndexReport: %v", err)
	}
	// Replace.
	r2 := sampleReport(m)
	r2.Warnings = nil
	r2.Packages["1"].Version = "2.36-9+deb12u7"
	if err := s.PutIndexReport(ctx, r2); err != nil {
		t.Fatalf("PutIndexReport (replace): %v", err)
	}
	if got, err := s.IndexReport(ctx, m); err != nil || !reflect.DeepEqual(got, r2) {
		t.Fatalf("IndexReport after replace = %+v, %v; want %+v", got, err, r2)
	}
	// Delete removes only that report, and deleting again is no error.
	if got, err := s.DeleteIndexReports(ctx, []string{m}); err != nil || len(got) != 1 {
		t.Fatalf("DeleteIndexReports = %q, %v", got, err)
	}
	if _, err := s.IndexReport(ctx, m); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("IndexReport after delete: err = %v, want ErrNotFound", err)
	}
	if got, err := s.DeleteIndexReports(ctx, []string{m}); err != nil || len(got) != 0 {
		t.Fatalf("DeleteIndexReports of a missing report = %q, %v", got, err)
	}
	if got, err := s.IndexReport(ctx, other.ManifestHash); err != nil || !reflect.DeepEqual(got, other) {
		t.Fatalf("other IndexReport = %+v, %v; want %+v", got, err, other)
	}
	if err := s.PutIndexReport(ctx, nil); err == nil {
		t.Fatal("PutIndexReport(nil) succeeded")
	}
}

func testFeedStateNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.FeedState(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FeedState of an unknown feed: err = %v, want ErrNotFound", err)
	}
	if err := s.TouchFeed(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchFeed of an unknown feed: err = %v, want ErrNotFound", err)
	}
	if _, err := s.FeedState(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchFeed created the feed: FeedState err = %v, want ErrNotFound", err)
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

func testReplaceFeedAndQuery(t *testing.T, s store.Store) {
	ctx := t.Context()
	debian := []*vuln.Advisory{
		adv("debian", "debian:12", "glibc", "CVE-2024-0001", "2.36-9+deb12u5"),
		adv("debian", "debian:12", "glibc", "CVE-2024-0002", ""),
		adv("debian", "debian:12", "openssl", "CVE-2024-0003", "3.0.14-1~deb12u1"),
		adv("debian", "debian:11", "glibc", "CVE-2024-0001", "2.31-13+deb11u9"),
		adv("debian", "debian:12", "curl", "CVE-2024-0004", "7.88.1-10+deb12u6"),
	}
	// Same package name in another feed and namespace.
	osv := []*vuln.Advisory{
		adv("osv", "debian:12", "glibc", "GHSA-xxxx", "2.36-9+deb12u6"),
		adv("osv", "pypi", "glibc", "PYSEC-1", "1.0"),
	}
	before := time.Now()
	op := replace(t, s, "debian", "fp1", debian)
	if _, err := uuid.Parse(op.ID); err != nil {
		t.Errorf("UpdateOperation.ID %q is not a UUID: %v", op.ID, err)
	}
	if op.Feed != "debian" || op.Fingerprint != "fp1" || op.Advisories != len(debian) {
		t.Errorf("UpdateOperation = %+v, want feed debian, fingerprint fp1, %d advisories", op, len(debian))
	}
	if op.Date.Before(before.Add(-time.Second)) || op.Date.After(time.Now().Add(time.Second)) {
		t.Errorf("UpdateOperation.Date = %v, want about now", op.Date)
	}
	replace(t, s, "osv", "o1", osv)

	st, err := s.FeedState(ctx, "debian")
	if err != nil {
		t.Fatalf("FeedState: %v", err)
	}
	want := store.FeedState{Feed: "debian", Fingerprint: "fp1", UpdatedAt: op.Date, CheckedAt: op.Date,
		Advisories: len(debian), Operation: op.ID}
	if !feedStateEqual(st, want) {
		t.Fatalf("FeedState = %+v, want %+v", st, want)
	}

	sameAdvs(t, "debian:12 glibc", query(t, s, "debian:12", "glibc"), bareAll([]*vuln.Advisory{debian[0], debian[1], osv[0]}))
	sameAdvs(t, "debian:12 glibc openssl nope", query(t, s, "debian:12", "glibc", "openssl", "nope"),
		bareAll([]*vuln.Advisory{debian[0], debian[1], debian[2], osv[0]}))
	sameAdvs(t, "debian:11 glibc", query(t, s, "debian:11", "glibc"), bareAll(debian[3:4]))
	sameAdvs(t, "pypi glibc", query(t, s, "pypi", "glibc"), bareAll(osv[1:]))
	sameAdvs(t, "debian:12 duplicate names", query(t, s, "debian:12", "curl", "curl"), bareAll(debian[4:5]))
	sameAdvs(t, "unknown namespace", query(t, s, "debian:13", "glibc"), nil)
	sameAdvs(t, "no packages", query(t, s, "debian:12"), nil)
	sameAdvs(t, "nil packages", query(t, s, "debian:12", []string(nil)...), nil)

	got := query(t, s, "debian:12", "glibc", "openssl")
	if err := s.Details(ctx, got); err != nil {
		t.Fatalf("Details: %v", err)
	}
	sameAdvs(t, "Details", got, []*vuln.Advisory{debian[0], debian[1], debian[2], osv[0]})
	if err := s.Details(ctx, nil); err != nil {
		t.Fatalf("Details(nil): %v", err)
	}
	// Advisories without stored details are left alone.
	unknown := []*vuln.Advisory{{Feed: "debian", Name: "CVE-0000-0000"}, {Feed: "nope", Name: "X"}}
	if err := s.Details(ctx, unknown); err != nil {
		t.Fatalf("Details of unknown names: %v", err)
	}
	if unknown[0].Description != "" || unknown[1].Links != nil {
		t.Fatalf("Details invented details: %+v %+v", unknown[0], unknown[1])
	}
}

func feedStateEqual(a, b store.FeedState) bool {
	return a.Feed == b.Feed && a.Fingerprint == b.Fingerprint && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.CheckedAt.Equal(b.CheckedAt) && a.Advisories == b.Advisories && a.Operation == b.Operation
}

func testReplaceFeedReplaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := []*vuln.Advisory{
		adv("debian", "debian:12", "glibc", "CVE-2024-0001", "2.36-9+deb12u5"),
		adv("debian", "debian:12", "zlib", "CVE-2024-0009", ""),
		adv("debian", "debian:11", "glibc", "CVE-2024-0001", "2.31-13+deb11u9"),
	}
	other := []*vuln.Advisory{adv("osv", "debian:12", "glibc", "GHSA-xxxx", "2.36-9+deb12u6")}
	op1 := replace(t, s, "debian", "fp1", old)
	replace(t, s, "osv", "o1", other)

	neu := []*vuln.Advisory{
		adv("debian", "debian:12", "glibc", "CVE-2024-0001", "2.36-9+deb12u6"), // fix changed
		adv("debian", "debian:12", "glibc", "CVE-2024-0005", ""),
	}
	neu[0].Description = "a new description"
	op2 := replace(t, s, "debian", "fp2", neu)
	if op2.ID == op1.ID {
		t.Fatalf("second ReplaceFeed reused operation id %s", op1.ID)
	}
	if op2.Date.Before(op1.Date) {
		t.Fatalf("second operation dated %v, before the first (%v)", op2.Date, op1.Date)
	}
	got := query(t, s, "debian:12", "glibc", "zlib")
	sameAdvs(t, "after replace", got, bareAll([]*vuln.Advisory{neu[0], neu[1], other[0]}))
	sameAdvs(t, "old namespace gone", query(t, s, "debian:11", "glibc"), nil)
	if err := s.Details(ctx, got); err != nil {
		t.Fatalf("Details: %v", err)
	}
	sameAdvs(t, "details after replace", got, []*vuln.Advisory{neu[0], neu[1], other[0]})
	// The old snapshot's details are gone with it.
	gone := []*vuln.Advisory{{Feed: "debian", Name: "CVE-2024-0009"}}
	if err := s.Details(ctx, gone); err != nil {
		t.Fatalf("Details: %v", err)
	}
	if gone[0].Description != "" {
		t.Fatalf("details of a replaced snapshot survived: %+v", gone[0])
	}
	st, err := s.FeedState(ctx, "debian")
	if err != nil {
		t.Fatalf("FeedState: %v", err)
	}
	if st.Fingerprint != "fp2" || st.Advisories != 2 || st.Operation != op2.ID || !st.UpdatedAt.Equal(op2.Date) {
		t.Fatalf("FeedState = %+v, want fingerprint fp2, 2 advisories, operation %s", st, op2.ID)
	}
	if st, err := s.FeedState(ctx, "osv"); err != nil || st.Fingerprint != "o1" || st.Advisories != 1 {
		t.Fatalf("other feed's state = %+v, %v; want untouched", st, err)
	}
	states, err := s.FeedStates(ctx)
	if err != nil {
		t.Fatalf("FeedStates: %v", err)
	}
	if len(states) != 2 || states[0].Feed != "debian" || states[1].Feed != "osv" ||
		!feedStateEqual(states[0], st) || states[1].Fingerprint != "o1" {
		t.Fatalf("FeedStates = %+v, want debian (%+v) then osv", states, st)
	}
}

func testReplaceFeedEmpty(t *testing.T, s store.Store) {
	replace(t, s, "alpine", "a1", []*vuln.Advisory{adv("alpine", "alpine:v3.20", "musl", "CVE-1", "1.2.5-r1")})
	op := replace(t, s, "alpine", "a2", nil)
	if op.Advisories != 0 {
		t.Fatalf("empty ReplaceFeed counted %d advisories", op.Advisories)
	}
	sameAdvs(t, "after empty replace", query(t, s, "alpine:v3.20", "musl"), nil)
	st, err := s.FeedState(t.Context(), "alpine")
	if err != nil || st.Fingerprint != "a2" || st.Advisories != 0 {
		t.Fatalf("FeedState = %+v, %v; want fingerprint a2, 0 advisories", st, err)
	}
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

func testLoadErrorRollsBack(t *testing.T, s store.Store) {
	st, advs := rollbackSetup(t, s)
	boom := errors.New("boom")
	_, err := s.ReplaceFeed(t.Context(), "debian", "fp2", func(emit func(*vuln.Advisory) error) error {
		for i := range 500 { // more than one batch, if the store batches
			if err := emit(adv("debian", "debian:12", "new", fmt.Sprintf("CVE-2025-%04d", i), "1")); err != nil {
				return err
			}
		}
		return fmt.Errorf("parse record 501: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReplaceFeed with a failing load: err = %v, want it to wrap load's error", err)
	}
	checkIntact(t, s, st, advs)
	// A new feed whose first load fails leaves no trace.
	_, err = s.ReplaceFeed(t.Context(), "fresh", "f1", func(emit func(*vuln.Advisory) error) error {
		if err := emit(adv("fresh", "debian:12", "glibc", "X-1", "1")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReplaceFeed with a failing load: err = %v, want it to wrap load's error", err)
	}
	if _, err := s.FeedState(t.Context(), "fresh"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FeedState of a feed whose only update failed: err = %v, want ErrNotFound", err)
	}
}

func testSwallowedEmitErrorRollsBack(t *testing.T, s store.Store) {
	st, advs := rollbackSetup(t, s)
	// A load that ignores emit's errors must not get an incomplete snapshot
	// committed: nil is not a valid advisory.
	_, err := s.ReplaceFeed(t.Context(), "debian", "fp2", func(emit func(*vuln.Advisory) error) error {
		_ = emit(adv("debian", "debian:12", "new", "CVE-2025-0001", "1"))
		_ = emit(nil)
		_ = emit(adv("debian", "debian:12", "new", "CVE-2025-0002", "1"))
		return nil
	})
	if err == nil {
		t.Fatal("ReplaceFeed succeeded though emit failed")
	}
	checkIntact(t, s, st, advs)
}

func testCancelRollsBack(t *testing.T, s store.Store) {
	st, advs := rollbackSetup(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var emitErr error
	_, err := s.ReplaceFeed(ctx, "debian", "fp2", func(emit func(*vuln.Advisory) error) error {
		for i := range 1000 {
			if i == 300 {
				cancel()
			}
			if err := emit(adv("debian", "debian:12", "new", fmt.Sprintf("CVE-2025-%04d", i), "1")); err != nil {
				emitErr = err
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ReplaceFeed cancelled mid-load: err = %v, want context.Canceled", err)
	}
	if !errors.Is(emitErr, context.Canceled) {
		t.Errorf("emit after cancel returned %v, want context.Canceled", emitErr)
	}
	checkIntact(t, s, st, advs)

	// Cancelled after load returned but before the store committed.
	ctx2, cancel2 := context.WithCancel(t.Context())
	_, err = s.ReplaceFeed(ctx2, "debian", "fp3", func(emit func(*vuln.Advisory) error) error {
		if err := emit(adv("debian", "debian:12", "new", "CVE-2025-0001", "1")); err != nil {
			return err
		}
		cancel2()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ReplaceFeed cancelled as load returned: err = %v, want context.Canceled", err)
	}
	checkIntact(t, s, st, advs)
}

func testForeignFeedRejected(t *testing.T, s store.Store) {
	st, advs := rollbackSetup(t, s)
	_, err := s.ReplaceFeed(t.Context(), "debian", "fp2", func(emit func(*vuln.Advisory) error) error {
		return emit(adv("ubuntu", "debian:12", "new", "CVE-2025-0001", "1"))
	})
	if err == nil {
		t.Fatal("ReplaceFeed stored an advisory of another feed")
	}
	checkIntact(t, s, st, advs)
	// An empty Feed is the feed being replaced.
	a := adv("", "debian:12", "new", "CVE-2025-0001", "1")
	replace(t, s, "debian", "fp3", []*vuln.Advisory{a})
	want := bare(a)
	want.Feed = "debian"
	sameAdvs(t, "empty Feed", query(t, s, "debian:12", "new"), []*vuln.Advisory{want})
}

// testNULRejected: no string of an advisory may contain NUL (PostgreSQL's text
// cannot hold one); ReplaceFeed fails on one and keeps the old snapshot.
func testNULRejected(t *testing.T, s store.Store) {
	st, advs := rollbackSetup(t, s)
	for _, f := range []func(a *vuln.Advisory){
		func(a *vuln.Advisory) { a.Package = "gl\x00ibc" },
		func(a *vuln.Advisory) { a.Name = "CVE\x00" },
		func(a *vuln.Advisory) { a.FixedIn = "1\x00"; a.Ranges = []vuln.Range{{Fixed: a.FixedIn}} },
		func(a *vuln.Advisory) { a.Ranges = []vuln.Range{{Introduced: "\x00"}} },
		func(a *vuln.Advisory) { a.Description = "a\x00b" },
		func(a *vuln.Advisory) { a.Links = []string{"\x00"} },
	} {
		a := adv("debian", "debian:12", "new", "CVE-2025-0001", "1")
		f(a)
		_, err := s.ReplaceFeed(t.Context(), "debian", "fp2", func(emit func(*vuln.Advisory) error) error {
			return emit(a)
		})
		if err == nil {
			t.Fatalf("ReplaceFeed stored a NUL byte: %+v", a)
		}
		checkIntact(t, s, st, advs)
	}
}

func testTouchFeed(t *testing.T, s store.Store) {
	ctx := t.Context()
	op := replace(t, s, "debian", "fp1", []*vuln.Advisory{adv("debian", "debian:12", "glibc", "CVE-1", "1")})
	before, err := s.FeedState(ctx, "debian")
	if err != nil {
		t.Fatalf("FeedState: %v", err)
	}
	time.Sleep(5 * time.Millisecond) // let the clock move, on coarse clocks too
	if err := s.TouchFeed(ctx, "debian"); err != nil {
		t.Fatalf("TouchFeed: %v", err)
	}
	after, err := s.FeedState(ctx, "debian")
	if err != nil {
		t.Fatalf("FeedState: %v", err)
	}
	if !after.CheckedAt.After(before.CheckedAt) {
		t.Fatalf("TouchFeed: CheckedAt %v, not after %v", after.CheckedAt, before.CheckedAt)
	}
	after.CheckedAt = before.CheckedAt
	if !feedStateEqual(before, after) {
		t.Fatalf("TouchFeed changed more than CheckedAt: %+v, was %+v", after, before)
	}
	if !after.UpdatedAt.Equal(op.Date) {
		t.Fatalf("UpdatedAt = %v, want the operation's date %v", after.UpdatedAt, op.Date)
	}
	sameAdvs(t, "after TouchFeed", query(t, s, "debian:12", "glibc"),
		bareAll([]*vuln.Advisory{adv("debian", "debian:12", "glibc", "CVE-1", "1")}))
}

func testDetailsShared(t *testing.T, s store.Store) {
	ctx := t.Context()
	// The tracker repeats a vulnerability across releases and packages; the
	// details are the vulnerability's, whichever row carried them.
	withDetails := adv("debian", "debian:12", "glibc", "CVE-2024-0001", "2.36-9+deb12u5")
	noDetails := bare(adv("debian", "debian:11", "glibc", "CVE-2024-0001", "2.31-13+deb11u9"))
	noDetails2 := bare(adv("debian", "debian:12", "eglibc", "CVE-2024-0001", ""))
	replace(t, s, "debian", "fp1", []*vuln.Advisory{noDetails, withDetails, noDetails2})
	got := append(query(t, s, "debian:11", "glibc"), query(t, s, "debian:12", "glibc", "eglibc")...)
	if len(got) != 3 {
		t.Fatalf("got %d advisories, want 3", len(got))
	}
	if err := s.Details(ctx, got); err != nil {
		t.Fatalf("Details: %v", err)
	}
	for _, a := range got {
		if a.Description != withDetails.Description || !slices.Equal(a.Links, withDetails.Links) ||
			!slices.Equal(a.Aliases, withDetails.Aliases) || !a.Issued.Equal(withDetails.Issued) {
			t.Fatalf("Details of %s %s = %+v, want the shared details of %+v", a.Namespace, a.Package, a, withDetails)
		}
	}
	// Each advisory owns its slices.
	got[0].Links[0] = "changed"
	if got[1].Links[0] == "changed" {
		t.Fatal("Details shares Links slices between advisories")
	}
}

func testManyPackages(t *testing.T, s store.Store) {
	var advs []*vuln.Advisory
	var pkgs []string
	for i := range 2000 {
		p := fmt.Sprintf("pkg-%04d", i)
		pkgs = append(pkgs, p)
		if i%3 == 0 {
			advs = append(advs, adv("debian", "debian:12", p, fmt.Sprintf("CVE-2024-%05d", i), "1.0-1"))
		}
	}
	advs = append(advs, adv("debian", "debian:12", "not-asked", "CVE-2024-99999", "1"))
	replace(t, s, "debian", "fp", advs)
	sameAdvs(t, "2000 packages", query(t, s, "debian:12", pkgs...), bareAll(advs[:len(advs)-1]))
}

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

// testConcurrent runs readers beside a writer. Every snapshot the writer
// commits has one advisory per package whose FixedIn names the generation, so
// a reader that sees two generations in one answer saw a torn snapshot.
func testConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const pkgs = 50
	names := make([]string, pkgs)
	for i := range names {
		names[i] = fmt.Sprintf("p%02d", i)
	}
	gen := func(g int) func(emit func(*vuln.Advisory) error) error {
		return func(emit func(*vuln.Advisory) error) error {
			for _, p := range names {
				if err := emit(adv("debian", "debian:12", p, "CVE-"+p, fmt.Sprintf("gen-%d", g))); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if _, err := s.ReplaceFeed(ctx, "debian", "g0", gen(0)); err != nil {
		t.Fatalf("ReplaceFeed: %v", err)
	}

	var (
		wg   sync.WaitGroup
		stop = make(chan struct{})
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	const writes = 10
	wg.Add(1)
	go func() { // the writer: feeds, reports and layer scans
		defer wg.Done()
		defer close(stop)
		for g := 1; g <= writes; g++ {
			if _, err := s.ReplaceFeed(ctx, "debian", fmt.Sprintf("g%d", g), gen(g)); err != nil {
				fail(fmt.Errorf("ReplaceFeed %d: %w", g, err))
				return
			}
			if err := s.TouchFeed(ctx, "debian"); err != nil {
				fail(fmt.Errorf("TouchFeed: %w", err))
			}
		}
	}()
	for w := range 2 { // more writers, of other tables
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				m := fmt.Sprintf("sha256:%d-%d", w, i)
				if err := s.PutIndexReport(ctx, sampleReport(m)); err != nil {
					fail(fmt.Errorf("PutIndexReport: %w", err))
					return
				}
				if err := s.PutLayerScan(ctx, m, "dpkg", "1", []byte(m)); err != nil {
					fail(fmt.Errorf("PutLayerScan: %w", err))
					return
				}
				if _, err := s.IndexReport(ctx, m); err != nil {
					fail(fmt.Errorf("IndexReport after Put: %w", err))
					return
				}
				if d, ok, err := s.LayerScan(ctx, m, "dpkg", "1"); err != nil || !ok || string(d) != m {
					fail(fmt.Errorf("LayerScan after Put = %q, %v, %v", d, ok, err))
					return
				}
			}
		}()
	}
	for range 4 { // readers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := s.Advisories(ctx, "debian:12", names)
				if err != nil {
					fail(fmt.Errorf("advisories: %w", err))
					return
				}
				if len(got) != pkgs {
					fail(fmt.Errorf("advisories: %d rows, want %d (a torn snapshot?)", len(got), pkgs))
					return
				}
				for _, a := range got {
					if a.FixedIn != got[0].FixedIn {
						fail(fmt.Errorf("advisories mix snapshots: %s and %s", a.FixedIn, got[0].FixedIn))
						return
					}
				}
				if err := s.Details(ctx, got[:5]); err != nil {
					fail(fmt.Errorf("details: %w", err))
					return
				}
				if _, err := s.FeedState(ctx, "debian"); err != nil {
					fail(fmt.Errorf("FeedState: %w", err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	st, err := s.FeedState(ctx, "debian")
	if err != nil || st.Fingerprint != fmt.Sprintf("g%d", writes) {
		t.Fatalf("FeedState after the writer = %+v, %v; want fingerprint g%d", st, err, writes)
	}
}
