package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

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

// testEmitAfterLoad checks that an emit kept past load's return is
// refused rather than written into a committed snapshot.
func testEmitAfterLoad(t *testing.T, s store.Store) {
	var saved func(*vuln.Advisory) error
	if _, err := s.ReplaceFeed(t.Context(), "f", "fp", func(emit func(*vuln.Advisory) error) error {
		saved = emit
		return nil
	}); err != nil {
		t.Fatalf("ReplaceFeed: %v", err)
	}
	if err := saved(&vuln.Advisory{Name: "late"}); err == nil {
		t.Fatal("emit after load returned succeeded")
	}
	if st, err := s.FeedState(t.Context(), "f"); err != nil || st.Advisories != 0 {
		t.Fatalf("FeedState after a late emit = %+v, %v; want 0 advisories", st, err)
	}
}
