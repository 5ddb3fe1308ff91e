package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openclair/clair/store"
)

// testIndexReportVersion checks that a report's version is when it was
// written, without reading it: ErrNotFound before, within the write's
// time after, unchanged when the same report is put again, and newer after
// a changed report is written (the matcher's cache of encoded reports keys
// on it).
func testIndexReportVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := "sha256:" + "ab" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	if _, err := s.IndexReportVersion(ctx, m); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("IndexReportVersion of a manifest never indexed: %v, want ErrNotFound", err)
	}
	before := time.Now().UnixNano()
	if err := s.PutIndexReport(ctx, sampleReport(m)); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixNano()
	v1, err := s.IndexReportVersion(ctx, m)
	if err != nil || v1 < before || v1 > after {
		t.Fatalf("IndexReportVersion = %d, %v; want a time in [%d, %d]", v1, err, before, after)
	}
	time.Sleep(time.Millisecond) // so that a clock of coarse resolution moves on
	// The same report again is no change: its cached encodings stay good.
	if err := s.PutIndexReport(ctx, sampleReport(m)); err != nil {
		t.Fatal(err)
	}
	if v, err := s.IndexReportVersion(ctx, m); err != nil || v != v1 {
		t.Fatalf("IndexReportVersion after putting the same report = %d, %v; want %d", v, err, v1)
	}
	changed := sampleReport(m)
	changed.Packages["1"].Version += "+1"
	if err := s.PutIndexReport(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if v2, err := s.IndexReportVersion(ctx, m); err != nil || v2 <= v1 {
		t.Fatalf("IndexReportVersion after a rewrite = %d, %v; want more than %d", v2, err, v1)
	}
	if _, err := s.DeleteIndexReports(ctx, []string{m}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IndexReportVersion(ctx, m); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("IndexReportVersion after delete: %v, want ErrNotFound", err)
	}
}

// testPing checks that a live store answers, and that a done context is
// reported rather than ignored.
func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping with a cancelled context succeeded")
	}
}

// testPoolStats checks the optional store.PoolStater of stores that have
// a connection pool: consistent counts, with a connection taken by a
// query given back after it.
func testPoolStats(t *testing.T, s store.Store) {
	p, ok := s.(store.PoolStater)
	if !ok {
		t.Skipf("%T has no connection pool", s)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	acquired, idle, total, max := p.PoolStats()
	if max <= 0 || total > max || acquired+idle != total || acquired != 0 || total == 0 {
		t.Fatalf("PoolStats = acquired %d, idle %d, total %d, max %d after a ping", acquired, idle, total, max)
	}
}
