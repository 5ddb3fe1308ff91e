package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
)

// TestSplitOnce checks that a split query's runs are not split again: a
// run of 500 names would be, by its size, on two cores.
func TestSplitOnce(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: nothing is split")
	}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("pkg%04d", i)
	}
	if _, ok, err := s.splitAdvisories(ctx, "debian:12", names); !ok || err != nil {
		t.Fatalf("1000 names: split %v, err %v", ok, err)
	}
	run := context.WithValue(ctx, splitRun{}, true)
	if _, ok, _ := s.splitAdvisories(run, "debian:12", names[:500]); ok {
		t.Error("a run of 500 names was split again")
	}
}
