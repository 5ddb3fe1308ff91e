package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

func testDeleteIndexReports(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, m := range []string{"sha256:1", "sha256:2", "sha256:3"} {
		if err := s.PutIndexReport(ctx, sampleReport(m)); err != nil {
			t.Fatalf("PutIndexReport: %v", err)
		}
	}
	exists := func(m string, want bool) {
		t.Helper()
		_, err := s.IndexReportVersion(ctx, m)
		if ok := err == nil; (err != nil && !errors.Is(err, store.ErrNotFound)) || ok != want {
			t.Fatalf("IndexReportVersion(%s): %v; want a report: %v", m, err, want)
		}
	}
	exists("sha256:1", true)
	exists("sha256:nope", false)
	// In the order asked, each once, only those that were there.
	got, err := s.DeleteIndexReports(ctx, []string{"sha256:3", "sha256:nope", "sha256:1", "sha256:3"})
	if err != nil {
		t.Fatalf("DeleteIndexReports: %v", err)
	}
	if want := []string{"sha256:3", "sha256:1"}; !slices.Equal(got, want) {
		t.Fatalf("DeleteIndexReports = %q, want %q", got, want)
	}
	exists("sha256:1", false)
	exists("sha256:3", false)
	exists("sha256:2", true)
	if _, err := s.IndexReport(ctx, "sha256:1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("IndexReport after DeleteIndexReports: %v, want ErrNotFound", err)
	}
	if got, err := s.DeleteIndexReports(ctx, []string{"sha256:1"}); err != nil || len(got) != 0 {
		t.Fatalf("DeleteIndexReports of deleted reports = %q, %v; want none", got, err)
	}
	if got, err := s.DeleteIndexReports(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("DeleteIndexReports(nil) = %q, %v; want none", got, err)
	}
}

func opsEqual(a, b store.UpdateOperation) bool {
	return a.ID == b.ID && a.Feed == b.Feed && a.Fingerprint == b.Fingerprint && a.Date.Equal(b.Date) &&
		a.Advisories == b.Advisories
}

func checkOps(t *testing.T, what string, got map[string][]store.UpdateOperation, want map[string][]store.UpdateOperation) {
	t.Helper()
	if !maps.EqualFunc(got, want, func(a, b []store.UpdateOperation) bool { return slices.EqualFunc(a, b, opsEqual) }) {
		t.Fatalf("%s:\ngot  %+v\nwant %+v", what, got, want)
	}
}

func updateOps(t *testing.T, s store.Store, feeds ...string) map[string][]store.UpdateOperation {
	t.Helper()
	got, err := s.UpdateOperations(t.Context(), feeds...)
	if err != nil {
		t.Fatalf("UpdateOperations(%q): %v", feeds, err)
	}
	if got == nil {
		t.Fatalf("UpdateOperations(%q) returned a nil map", feeds)
	}
	return got
}

func testUpdateOperations(t *testing.T, s store.Store) {
	checkOps(t, "empty store", updateOps(t, s), map[string][]store.UpdateOperation{})
	a := []*vuln.Advisory{adv("debian", "debian:12", "glibc", "CVE-1", "1")}
	var deb []store.UpdateOperation
	for i := range 4 {
		deb = append(deb, replace(t, s, "debian", fmt.Sprintf("d%d", i), a))
	}
	osv := replace(t, s, "osv", "o1", nil)
	// A failed update records nothing.
	if _, err := s.ReplaceFeed(t.Context(), "debian", "bad", func(func(*vuln.Advisory) error) error {
		return errors.New("boom")
	}); err == nil {
		t.Fatal("ReplaceFeed with a failing load succeeded")
	}
	slices.Reverse(deb) // newest first
	all := map[string][]store.UpdateOperation{"debian": deb, "osv": {osv}}
	checkOps(t, "all feeds", updateOps(t, s), all)
	checkOps(t, "debian", updateOps(t, s, "debian"), map[string][]store.UpdateOperation{"debian": deb})
	checkOps(t, "debian, osv, unknown", updateOps(t, s, "osv", "nope", "debian"), all)
	checkOps(t, "unknown", updateOps(t, s, "nope"), map[string][]store.UpdateOperation{})
	st, err := s.FeedState(t.Context(), "debian")
	if err != nil || st.Operation != deb[0].ID {
		t.Fatalf("FeedState = %+v, %v; want operation %s, the newest", st, err, deb[0].ID)
	}
}

func diff(t *testing.T, s store.Store, prev, cur string) *store.UpdateDiff {
	t.Helper()
	d, err := s.UpdateDiff(t.Context(), prev, cur)
	if err != nil {
		t.Fatalf("UpdateDiff(%q, %q): %v", prev, cur, err)
	}
	return d
}

func checkDiff(t *testing.T, what string, d *store.UpdateDiff, prev, cur store.UpdateOperation, added, removed []*vuln.Advisory) {
	t.Helper()
	if !opsEqual(d.Prev, prev) || !opsEqual(d.Cur, cur) {
		t.Fatalf("%s: operations %+v, %+v; want %+v, %+v", what, d.Prev, d.Cur, prev, cur)
	}
	sameAdvs(t, what+": added", d.Added, added)
	sameAdvs(t, what+": removed", d.Removed, removed)
}

func testUpdateDiff(t *testing.T, s store.Store) {
	same := adv("debian", "debian:12", "glibc", "CVE-1", "1.0")
	fixOld := adv("debian", "debian:12", "openssl", "CVE-2", "3.0")
	fixNew := adv("debian", "debian:12", "openssl", "CVE-2", "3.1") // fix changed
	gone := adv("debian", "debian:11", "zlib", "CVE-3", "")
	added := adv("debian", "debian:13", "zlib", "CVE-4", "")
	archOld := adv("debian", "debian:12", "kernel", "CVE-5", "6.1")
	archOld.Arches = []string{"amd64"}
	archNew := adv("debian", "debian:12", "kernel", "CVE-5", "6.1")
	archNew.Arches = []string{"amd64", "arm64"} // a qualifier changed
	modOld := adv("debian", "debian:12", "nodejs", "CVE-6", "18")
	modOld.Module, modOld.Repositories = "nodejs:18", []string{"cpe:a"}
	modNew := adv("debian", "debian:12", "nodejs", "CVE-6", "18")
	modNew.Module, modNew.Repositories = "nodejs:18", []string{"cpe:b"}
	descOld := adv("debian", "debian:12", "curl", "CVE-7", "8")
	descNew := adv("debian", "debian:12", "curl", "CVE-7", "8")
	descNew.Description = "better words" // only the details changed
	// Two statements of one name; the second carries no details of its
	// own but shares the name's: a change of them changes both.
	descOld2 := bare(adv("debian", "debian:11", "curl", "CVE-7", "7"))
	descNew2 := bare(descOld2)
	dup := adv("debian", "debian:12", "bash", "CVE-8", "5") // stated twice, then once

	prevAdvs := []*vuln.Advisory{same, fixOld, gone, archOld, modOld, descOld, descOld2, dup, dup}
	curAdvs := []*vuln.Advisory{dup, descNew2, descNew, modNew, archNew, added, fixNew, same}
	op1 := replace(t, s, "debian", "fp1", prevAdvs)
	replace(t, s, "osv", "o1", []*vuln.Advisory{adv("osv", "debian:12", "glibc", "GHSA-1", "1")})
	op2 := replace(t, s, "debian", "fp2", curAdvs)

	withDetails := func(a, from *vuln.Advisory) *vuln.Advisory {
		c := *a
		c.Description, c.Links, c.Issued, c.Aliases = from.Description, from.Links, from.Issued, from.Aliases
		return &c
	}
	wantAdded := []*vuln.Advisory{fixNew, added, archNew, modNew, descNew, withDetails(descNew2, descNew)}
	wantRemoved := []*vuln.Advisory{fixOld, gone, archOld, modOld, descOld, withDetails(descOld2, descOld), dup}
	checkDiff(t, "op1..op2", diff(t, s, op1.ID, op2.ID), op1, op2, wantAdded, wantRemoved)
	checkDiff(t, "op2..op1", diff(t, s, op2.ID, op1.ID), op2, op1, wantRemoved, wantAdded)
	checkDiff(t, "op2..op2", diff(t, s, op2.ID, op2.ID), op2, op2, nil, nil)

	// The same snapshot again: nothing changed, emit order aside.
	reversed := slices.Clone(curAdvs)
	slices.Reverse(reversed)
	op3 := replace(t, s, "debian", "fp3", reversed)
	checkDiff(t, "op2..op3", diff(t, s, op2.ID, op3.ID), op2, op3, nil, nil)
	// An empty snapshot removes everything.
	op4 := replace(t, s, "debian", "fp4", nil)
	d := diff(t, s, op3.ID, op4.ID)
	if len(d.Added) != 0 || len(d.Removed) != len(curAdvs) {
		t.Fatalf("op3..op4: %d added, %d removed; want 0, %d", len(d.Added), len(d.Removed), len(curAdvs))
	}
	// Diffs are of history: the current rows play no part.
	checkDiff(t, "op1..op2 again", diff(t, s, op1.ID, op2.ID), op1, op2, wantAdded, wantRemoved)
}

func testUpdateDiffFromEmpty(t *testing.T, s store.Store) {
	withDetails := adv("osv", "pypi", "django", "PYSEC-1", "4.2")
	noDetails := bare(adv("osv", "pypi", "django-extra", "PYSEC-1", "1.0"))
	other := adv("", "pypi", "flask", "PYSEC-2", "")
	other.Versions = []string{"0.1", "0.2"}
	other.Ranges = []vuln.Range{{Introduced: "0", LastAffected: "0.2"}}
	op := replace(t, s, "osv", "fp", []*vuln.Advisory{noDetails, withDetails, other})
	wantOther := *other
	wantOther.Feed = "osv"
	want := []*vuln.Advisory{withDetails, &wantOther, {}}
	// The advisory without details of its own has its name's, as Details
	// would give it.
	*want[2] = *noDetails
	want[2].Description, want[2].Links, want[2].Issued, want[2].Aliases =
		withDetails.Description, withDetails.Links, withDetails.Issued, withDetails.Aliases
	checkDiff(t, "from empty", diff(t, s, "", op.ID), store.UpdateOperation{}, op, want, nil)

	empty := replace(t, s, "empty", "fp", nil)
	checkDiff(t, "empty from empty", diff(t, s, "", empty.ID), store.UpdateOperation{}, empty, nil, nil)
}

func testUpdateDiffErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := adv("debian", "debian:12", "glibc", "CVE-1", "1")
	deb := replace(t, s, "debian", "fp", []*vuln.Advisory{a})
	osv := replace(t, s, "osv", "fp", []*vuln.Advisory{adv("osv", "debian:12", "glibc", "GHSA-1", "1")})
	const unknown = "00000000-0000-4000-8000-000000000000"
	for _, c := range [][2]string{
		{"", unknown},
		{unknown, deb.ID},
		{deb.ID, unknown},
		{"", "not a uuid"},
		{"", ""},
		{"not a uuid", deb.ID},
	} {
		if _, err := s.UpdateDiff(ctx, c[0], c[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateDiff(%q, %q): err = %v, want ErrNotFound", c[0], c[1], err)
		}
	}
	_, err := s.UpdateDiff(ctx, deb.ID, osv.ID)
	if !errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateDiff across feeds: err = %v, want ErrInvalid", err)
	}
}

// testUpdateDiffRollback: a failed update leaves no operation and no
// snapshot behind, and the history before it diffs as before.
func testUpdateDiffRollback(t *testing.T, s store.Store) {
	st, advs := rollbackSetup(t, s)
	_, err := s.ReplaceFeed(t.Context(), "debian", "fp2", func(emit func(*vuln.Advisory) error) error {
		if err := emit(adv("debian", "debian:12", "new", "CVE-2025-0001", "1")); err != nil {
			return err
		}
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("ReplaceFeed with a failing load succeeded")
	}
	ops := updateOps(t, s, "debian")["debian"]
	if len(ops) != 1 || ops[0].ID != st.Operation {
		t.Fatalf("operations after a failed update = %+v, want only %s", ops, st.Operation)
	}
	d := diff(t, s, "", st.Operation)
	sameAdvs(t, "snapshot kept", d.Added, advs)
}

func testGC(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := func(fix string) []*vuln.Advisory {
		return []*vuln.Advisory{adv("debian", "debian:12", "glibc", "CVE-1", fix)}
	}
	var deb []store.UpdateOperation
	for i := range 5 {
		deb = append(deb, replace(t, s, "debian", fmt.Sprintf("d%d", i), a(fmt.Sprint(i))))
	}
	osv := replace(t, s, "osv", "o", nil)
	slices.Reverse(deb) // newest first

	if _, err := s.GC(ctx, -1); err == nil {
		t.Fatal("GC(-1) succeeded")
	}
	gc := func(keep, want int) {
		t.Helper()
		n, err := s.GC(ctx, keep)
		if err != nil || n != want {
			t.Fatalf("GC(%d) = %d, %v; want %d", keep, n, err, want)
		}
	}
	gc(5, 0)
	gc(3, 2)
	checkOps(t, "after GC(3)", updateOps(t, s), map[string][]store.UpdateOperation{"debian": deb[:3], "osv": {osv}})
	for _, op := range deb[3:] {
		if _, err := s.UpdateDiff(ctx, "", op.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateDiff of a collected operation: err = %v, want ErrNotFound", err)
		}
		if _, err := s.UpdateDiff(ctx, op.ID, deb[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateDiff from a collected operation: err = %v, want ErrNotFound", err)
		}
	}
	d := diff(t, s, deb[2].ID, deb[0].ID)
	checkDiff(t, "kept operations", d, deb[2], deb[0], a("4"), a("2"))
	gc(3, 0)
	// keep 0 keeps the operation of each current snapshot all the same.
	gc(0, 2)
	checkOps(t, "after GC(0)", updateOps(t, s), map[string][]store.UpdateOperation{"debian": deb[:1], "osv": {osv}})
	checkDiff(t, "current kept", diff(t, s, "", deb[0].ID), store.UpdateOperation{}, deb[0], a("4"), nil)
	sameAdvs(t, "current rows", query(t, s, "debian:12", "glibc"), bareAll(a("4")))
	// Updates go on after a GC.
	next := replace(t, s, "debian", "d5", a("5"))
	checkDiff(t, "after GC", diff(t, s, deb[0].ID, next.ID), deb[0], next, a("5"), a("4"))
}

func testTryLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	unlock, ok, err := s.TryLock(ctx, "feed:debian")
	if err != nil || !ok || unlock == nil {
		t.Fatalf("TryLock = %v, %v; want the lock", ok, err)
	}
	// Held: not again, not even by its holder.
	if u, ok, err := s.TryLock(ctx, "feed:debian"); err != nil || ok || u != nil {
		t.Fatalf("second TryLock = %v, %v; want false, nil", ok, err)
	}
	// Other keys are other locks.
	unlock2, ok, err := s.TryLock(ctx, "feed:osv")
	if err != nil || !ok {
		t.Fatalf("TryLock of another key = %v, %v; want the lock", ok, err)
	}
	unlock()
	unlock() // a second call does nothing
	unlock3, ok, err := s.TryLock(ctx, "feed:debian")
	if err != nil || !ok {
		t.Fatalf("TryLock after unlock = %v, %v; want the lock", ok, err)
	}
	unlock() // the old unlock does not free the new holder's lock
	if _, ok, err := s.TryLock(ctx, "feed:debian"); err != nil || ok {
		t.Fatalf("TryLock after a stale unlock = %v, %v; want false, nil", ok, err)
	}
	unlock3()
	unlock2()
	// Odd keys.
	for _, k := range []string{"", "manifest:sha256:ü'\"%", string(make([]byte, 1000))} {
		u, ok, err := s.TryLock(ctx, k)
		if err != nil || !ok {
			t.Fatalf("TryLock(%q) = %v, %v", k, ok, err)
		}
		u()
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok, err := s.TryLock(cctx, "x"); !errors.Is(err, context.Canceled) || ok {
		t.Fatalf("TryLock with a done ctx = %v, %v; want context.Canceled", ok, err)
	}
}

func testLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	unlock, err := s.Lock(ctx, "manifest:sha256:1")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	// A waiter with a deadline gives up with ctx's error.
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Lock(tctx, "manifest:sha256:1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held key with a deadline: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Lock took %v to honour a 100ms deadline", d)
	}
	// The holder still holds it.
	if _, ok, err := s.TryLock(ctx, "manifest:sha256:1"); err != nil || ok {
		t.Fatalf("TryLock after a waiter gave up = %v, %v; want false", ok, err)
	}
	// A waiter gets it once the holder lets go.
	got := make(chan func(), 1)
	errc := make(chan error, 1)
	go func() {
		u, err := s.Lock(ctx, "manifest:sha256:1")
		if err != nil {
			errc <- err
			return
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("Lock returned while the lock was held")
	case err := <-errc:
		t.Fatalf("Lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		if _, ok, err := s.TryLock(ctx, "manifest:sha256:1"); err != nil || ok {
			t.Fatalf("TryLock while the waiter holds it = %v, %v; want false", ok, err)
		}
		u()
	case err := <-errc:
		t.Fatalf("Lock: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Lock still waiting 10s after unlock")
	}
	u, ok, err := s.TryLock(ctx, "manifest:sha256:1")
	if err != nil || !ok {
		t.Fatalf("TryLock after all unlocked = %v, %v; want the lock", ok, err)
	}
	u()
}

// UpgradedHistory checks a store opened on a database written before
// stores kept snapshots: feed debian with operations op-1 then op-2 (its
// current), neither with a snapshot. Their order survives the upgrade, a
// diff that needs a missing snapshot is ErrNotFound, a new update's diff
// works, and GC deletes the old operations.
func UpgradedHistory(t *testing.T, s store.Store) {
	ctx := t.Context()
	ops, err := s.UpdateOperations(ctx)
	if err != nil || len(ops["debian"]) != 2 || ops["debian"][0].ID != "op-2" || ops["debian"][1].ID != "op-1" {
		t.Fatalf("UpdateOperations after upgrade = %+v, %v; want op-2, op-1", ops, err)
	}
	if _, err := s.UpdateDiff(ctx, "", "op-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateDiff of an operation without snapshot: %v, want ErrNotFound", err)
	}
	op, err := s.ReplaceFeed(ctx, "debian", "fp3", func(emit func(*vuln.Advisory) error) error {
		return emit(&vuln.Advisory{Name: "CVE-1", Namespace: "debian:12", Package: "p"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if ops, err := s.UpdateOperations(ctx, "debian"); err != nil || ops["debian"][0].ID != op.ID {
		t.Fatalf("UpdateOperations after an update = %+v, %v; want %s first", ops, err, op.ID)
	}
	if _, err := s.UpdateDiff(ctx, "op-2", op.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateDiff from an operation without snapshot: %v, want ErrNotFound", err)
	}
	if d, err := s.UpdateDiff(ctx, "", op.ID); err != nil || len(d.Added) != 1 {
		t.Fatalf("UpdateDiff of the new operation = %+v, %v", d, err)
	}
	if n, err := s.GC(ctx, 1); err != nil || n != 2 {
		t.Fatalf("GC(1) = %d, %v; want 2", n, err)
	}
}
