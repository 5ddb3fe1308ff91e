// Package split runs a call over a long sorted list in consecutive runs at
// once, for the reads of a large report (its advisories, its enrichment
// records): decoding tens of thousands of rows is CPU, and a second core
// halves it.
package split

import (
	"context"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"
)

// Runs is how many runs n items are worth: limit (0: GOMAXPROCS, at most
// 4, the stores' read pools' floor), each of at least minPer items; 1 when
// there are too few to split.
func Runs(limit, n, minPer int) int {
	if limit <= 0 {
		limit = min(runtime.GOMAXPROCS(0), 4)
	}
	return max(1, min(limit, n/minPer))
}

// Concat calls fn on items cut into n consecutive runs, at once, and
// concatenates the results in the runs' order; the first error cancels
// the other runs' context and is returned. n < 2 calls fn once.
func Concat[T any](ctx context.Context, items []string, n int, fn func(ctx context.Context, run []string) ([]T, error)) ([]T, error) {
	if n < 2 {
		return fn(ctx, items)
	}
	per := (len(items) + n - 1) / n
	parts := make([][]T, n)
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		run := items[min(i*per, len(items)):min((i+1)*per, len(items))]
		g.Go(func() (err error) {
			parts[i], err = fn(gctx, run)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(parts...), nil
}
