package split

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestRuns(t *testing.T) {
	for _, c := range []struct{ limit, n, per, want int }{
		{2, 1000, 100, 2}, {4, 1000, 100, 4}, {4, 250, 100, 2}, {4, 50, 100, 1}, {4, 0, 100, 1},
	} {
		if got := Runs(c.limit, c.n, c.per); got != c.want {
			t.Errorf("Runs(%d, %d, %d) = %d, want %d", c.limit, c.n, c.per, got, c.want)
		}
	}
	if got, want := Runs(0, 1<<20, 1), min(runtime.GOMAXPROCS(0), 4); got != want {
		t.Errorf("Runs(0, …) = %d, want %d", got, want)
	}
}

// TestConcat: every item is seen once, in one run, and the results come
// back in the items' order whatever the runs; an error is returned.
func TestConcat(t *testing.T) {
	var items []string
	for i := range 103 {
		items = append(items, fmt.Sprintf("%03d", i))
	}
	for n := range 6 {
		got, err := Concat(context.Background(), items, n, func(_ context.Context, run []string) ([]string, error) {
			return slices.Clone(run), nil
		})
		if err != nil || !slices.Equal(got, items) {
			t.Errorf("%d runs: %v, %v", n, err, got)
		}
	}
	boom := errors.New("boom")
	_, err := Concat(context.Background(), items, 3, func(_ context.Context, run []string) ([]int, error) {
		if strings.HasPrefix(run[0], "0") {
			return nil, boom
		}
		return []int{1}, nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}
