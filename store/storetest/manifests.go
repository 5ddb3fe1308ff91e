package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// testManifests checks Manifests: newest first, bounded by limit, a
// rewritten report moves to the front, a deleted one leaves.
func testManifests(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.Manifests(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v", got, err)
	}
	if _, err := s.Manifests(ctx, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit 0: %v, want ErrInvalid", err)
	}
	put := func(m string, warnings ...string) {
		t.Helper()
		if err := s.PutIndexReport(ctx, &vuln.IndexReport{ManifestHash: m, State: vuln.IndexFinished, Success: true, Warnings: warnings}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct write times
	}
	for i := range 3 {
		put(fmt.Sprintf("sha256:%064d", i))
	}
	// The same report again is no change and does not move; a changed
	// one does.
	put(fmt.Sprintf("sha256:%064d", 1))
	put(fmt.Sprintf("sha256:%064d", 0), "changed")
	got, err := s.Manifests(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Manifest != fmt.Sprintf("sha256:%064d", 0) || got[1].Manifest != fmt.Sprintf("sha256:%064d", 2) {
		t.Fatalf("Manifests(2) = %+v, want 0 (rewritten last) then 2", got)
	}
	if time.Since(got[0].UpdatedAt) > time.Hour || !got[0].UpdatedAt.After(got[1].UpdatedAt) {
		t.Errorf("write times %v, %v", got[0].UpdatedAt, got[1].UpdatedAt)
	}
	if _, err := s.DeleteIndexReports(ctx, []string{fmt.Sprintf("sha256:%064d", 0)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Manifests(ctx, 10); len(got) != 2 {
		t.Errorf("after a delete: %+v", got)
	}
}
