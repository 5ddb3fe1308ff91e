package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/openclair/clair/store"
)

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
