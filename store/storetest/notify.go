package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// RunNotify checks the notifier's storage (notify.Store): the
// package→manifest index kept with the reports, notification sets, their
// pages, receipts, read marks and deletion. open must return a new, empty
// store for each call.
func RunNotify(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, notify.Store, store.Store)
	}{
		{"ManifestIndex", testManifestIndex},
		{"NotificationSets", testNotificationSets},
		{"NotificationPages", testNotificationPages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			ns, ok := s.(notify.Store)
			if !ok {
				t.Fatalf("%T does not implement notify.Store", s)
			}
			tc.fn(t, ns, s)
		})
	}
}

// fragmentsOf maps each manifest indexed under keys to the keys it is
// under, reading the index as the notifier does (distinct fragments, then
// their manifests).
func fragmentsOf(t *testing.T, ns notify.Store, keys ...match.Key) map[string][]match.Key {
	t.Helper()
	out := map[string][]match.Key{}
	for _, k := range keys {
		var hashes []string
		if err := ns.IndexedFragments(context.Background(), []match.Key{k}, func(h string, b []byte) error {
			var f vuln.IndexReport
			if err := json.Unmarshal(b, &f); err != nil || len(f.Packages) == 0 {
				return fmt.Errorf("fragment %s: %q: %v", h, b, err)
			}
			hashes = append(hashes, h)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := ns.FragmentManifests(context.Background(), []match.Key{k}, hashes, func(m, _ string) error {
			out[m] = append(out[m], k)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func testManifestIndex(t *testing.T, ns notify.Store, s store.Store) {
	ctx := context.Background()
	glibc := match.Key{Namespace: "debian:12", Name: "glibc"}
	other := match.Key{Namespace: "debian:12", Name: "openssl"}
	for _, m := range []string{"sha256:1", "sha256:2", "sha256:3"} {
		if err := s.PutIndexReport(ctx, sampleReport(m)); err != nil {
			t.Fatal(err)
		}
	}
	got := fragmentsOf(t, ns, glibc, other)
	if len(got) != 3 || len(got["sha256:2"]) != 1 || got["sha256:2"][0] != glibc {
		t.Fatalf("index = %v, want the three manifests under %v", got, glibc)
	}
	// A report replaced by one without the package leaves the index.
	r := sampleReport("sha256:2")
	r.Packages["1"].Source.Name = "openssl"
	if err := s.PutIndexReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	got = fragmentsOf(t, ns, glibc, other)
	if len(got["sha256:2"]) != 1 || got["sha256:2"][0] != other || len(got) != 3 {
		t.Fatalf("after replacing: index = %v", got)
	}
	// Deleted reports take their index rows with them, both ways.
	if _, err := s.DeleteIndexReports(ctx, []string{"sha256:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteIndexReports(ctx, []string{"sha256:3"}); err != nil {
		t.Fatal(err)
	}
	got = fragmentsOf(t, ns, glibc, other)
	if len(got) != 1 || len(got["sha256:2"]) != 1 {
		t.Fatalf("after deleting: index = %v", got)
	}
	// Identical packages make one fragment, kept once; fragments no
	// report names any more go.
	var hashes []string
	if err := ns.IndexedFragments(ctx, []match.Key{glibc, other}, func(h string, _ []byte) error {
		hashes = append(hashes, h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(hashes) != 1 {
		t.Fatalf("%d distinct fragments, want 1 (sha256:2's openssl)", len(hashes))
	}
	if n, err := ns.DeleteUnusedFragments(ctx); err != nil || n != 1 {
		t.Fatalf("unused fragments deleted: %d %v, want 1 (the glibc one)", n, err)
	}
	// A callback's error stops the walk and comes back as it is.
	stop := errors.New("stop")
	if err := ns.IndexedFragments(ctx, []match.Key{other}, func(string, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error: got %v", err)
	}
	if err := ns.FragmentManifests(ctx, []match.Key{other}, hashes, func(string, string) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error: got %v", err)
	}
}

func sampleNotifications(set string, n int) []notify.Notification {
	out := make([]notify.Notification, n)
	for i := range out {
		out[i] = notify.Notification{
			ID: fmt.Sprintf("%s-%d", set, i), Manifest: fmt.Sprintf("sha256:%d", i%7), Reason: notify.Added,
			Vulnerability: notify.VulnerabilitySummary{Name: fmt.Sprintf("CVE-2024-%04d", i), NormalizedSeverity: "High",
				Package: &vuln.Package{Name: "glibc"}, Description: "ü\x00'"},
		}
	}
	return out
}

func testNotificationSets(t *testing.T, ns notify.Store, _ store.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := notify.Set{ID: "set-a", Operation: "op-1", Prev: "op-0", Feed: "debian", Created: now}
	ok, err := ns.PutNotificationSet(ctx, a, sampleNotifications("a", 3))
	if err != nil || !ok {
		t.Fatalf("put: %v %v", ok, err)
	}
	// A second set for the same operation (another instance) loses.
	ok, err = ns.PutNotificationSet(ctx, notify.Set{ID: "set-a2", Operation: "op-1", Feed: "debian", Created: now}, sampleNotifications("x", 2))
	if err != nil || ok {
		t.Fatalf("second put of op-1: %v %v", ok, err)
	}
	if _, err := ns.NotificationSet(ctx, "set-a2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the losing set was written: %v", err)
	}
	if ok, err := ns.PutNotificationSet(ctx, notify.Set{ID: "set-b", Operation: "op-2", Prev: "op-1", Feed: "debian", Created: now}, nil); err != nil || !ok {
		t.Fatalf("put empty: %v %v", ok, err)
	}
	if err := ns.PutDelivery(ctx, "set-a", "webhook", now); err != nil {
		t.Fatal(err)
	}
	if err := ns.PutDelivery(ctx, "set-a", "webhook", now); err != nil {
		t.Fatalf("a second receipt: %v", err)
	}
	if err := ns.MarkNotificationSetRead(ctx, "set-a", now); err != nil {
		t.Fatal(err)
	}
	if err := ns.MarkNotificationSetRead(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("read mark of an unknown set: %v", err)
	}
	sets, err := ns.NotificationSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || sets[0].ID != "set-a" || sets[1].ID != "set-b" {
		t.Fatalf("sets = %+v", sets)
	}
	s := sets[0]
	if s.Operation != "op-1" || s.Prev != "op-0" || s.Feed != "debian" || !s.Created.Equal(now) || s.Count != 3 ||
		s.Read == nil || !slices.Equal(s.Delivered, []string{"webhook"}) {
		t.Errorf("set a = %+v", s)
	}
	if sets[1].Count != 0 || sets[1].Read != nil || len(sets[1].Delivered) != 0 {
		t.Errorf("set b = %+v", sets[1])
	}
	one, err := ns.NotificationSet(ctx, "set-a")
	if err != nil || one.Count != 3 || !slices.Equal(one.Delivered, []string{"webhook"}) {
		t.Errorf("set a alone = %+v, %v", one, err)
	}
	if n, err := ns.DeleteNotificationSets(ctx, []string{"set-a", "nope"}); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if _, _, err := ns.Notifications(ctx, "set-a", 0, 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("notifications of a deleted set: %v", err)
	}
	// Its operation may be computed again.
	if ok, err := ns.PutNotificationSet(ctx, notify.Set{ID: "set-a3", Operation: "op-1", Feed: "debian", Created: now}, nil); err != nil || !ok {
		t.Fatalf("put after delete: %v %v", ok, err)
	}
}

func testNotificationPages(t *testing.T, ns notify.Store, _ store.Store) {
	ctx := context.Background()
	want := sampleNotifications("p", 25)
	if _, err := ns.PutNotificationSet(ctx, notify.Set{ID: "p", Operation: "op", Feed: "f", Created: time.Now()}, want); err != nil {
		t.Fatal(err)
	}
	var got []notify.Notification
	after, pages := 0, 0
	for {
		page, next, err := ns.Notifications(ctx, "p", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, page...)
		if next == 0 {
			break
		}
		if next <= after || pages > 5 {
			t.Fatalf("cursor %d after %d", next, after)
		}
		after = next
	}
	if pages != 3 || len(got) != 25 {
		t.Fatalf("%d pages, %d notifications", pages, len(got))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Vulnerability.Description != want[i].Vulnerability.Description ||
			got[i].Vulnerability.Package == nil || got[i].Vulnerability.Package.Name != "glibc" {
			t.Fatalf("notification %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A page size that is the set's size has no next page.
	if page, next, err := ns.Notifications(ctx, "p", 0, 25); err != nil || len(page) != 25 || next != 0 {
		t.Fatalf("one page: %d, next %d, %v", len(page), next, err)
	}
}
