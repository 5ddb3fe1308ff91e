package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

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

	// BriefDetails, where a store has it, is Details but the description
	// and links.
	if bs, ok := s.(interface {
		BriefDetails(context.Context, []*vuln.Advisory) error
	}); ok {
		got := query(t, s, "debian:12", "glibc", "openssl")
		if err := bs.BriefDetails(ctx, got); err != nil {
			t.Fatalf("BriefDetails: %v", err)
		}
		want := []*vuln.Advisory{debian[0], debian[1], debian[2], osv[0]}
		for i, a := range want {
			cp := *a
			cp.Description, cp.Links = "", nil
			want[i] = &cp
		}
		sameAdvs(t, "BriefDetails", got, want)
	}
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
