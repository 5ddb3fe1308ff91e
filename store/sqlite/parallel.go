package sqlite

import (
	"context"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/openclair/clair/vuln"
)

// minSplit is the fewest names per query worth a connection of its own.
const minSplit = 1024

// splitDetails runs details in up to GOMAXPROCS (at most 4, the read pool's
// floor) queries at once over sorted names cut into consecutive runs. The
// look-ups cost CPU inside SQLite, not I/O: a large report's thousands of
// names (6,639 for the 700-package image) take one core for tens of
// milliseconds, and a second core halves that. Each run's names are
// distinct, so each run's advisories are its own.
func (s *Store) splitDetails(ctx context.Context, feed string, names []string, m map[string][]*vuln.Advisory) error {
	n := min(runtime.GOMAXPROCS(0), 4, len(names)/minSplit)
	if n < 2 {
		return s.details(ctx, feed, names, m)
	}
	g, ctx := errgroup.WithContext(ctx)
	per := (len(names) + n - 1) / n
	for i := 0; i < len(names); i += per {
		run := names[i:min(i+per, len(names))]
		g.Go(func() error { return s.details(ctx, feed, run, m) })
	}
	return g.Wait()
}

// minSplitPackages is the fewest package names per advisories query worth
// a connection of its own.
const minSplitPackages = 128

// splitRun marks the context of one run of a split query.
type splitRun struct{}

// splitAdvisories runs Advisories over sorted, distinct packages cut into
// consecutive runs, up to GOMAXPROCS (at most 4) at once, for the same
// reason as splitDetails: decoding a large image's advisories (some 400
// source packages, 16,000 advisories for the 700-package image) is CPU.
// ok is false when packages are too few to split.
func (s *Store) splitAdvisories(ctx context.Context, namespace string, packages []string) (out []*vuln.Advisory, ok bool, err error) {
	n := min(runtime.GOMAXPROCS(0), 4, len(packages)/minSplitPackages)
	if n < 2 || ctx.Value(splitRun{}) != nil {
		return nil, false, nil
	}
	ctx = context.WithValue(ctx, splitRun{}, true) // a run is not split again
	per := (len(packages) + n - 1) / n
	parts := make([][]*vuln.Advisory, n)
	g, ctx := errgroup.WithContext(ctx)
	for i := range n {
		run := packages[i*per : min((i+1)*per, len(packages))]
		g.Go(func() (err error) {
			parts[i], err = s.Advisories(ctx, namespace, run)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, true, err
	}
	return slices.Concat(parts...), true, nil
}
