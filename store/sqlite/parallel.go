package sqlite

import (
	"context"
	"maps"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/openclair/clair/internal/split"
	"github.com/openclair/clair/vuln"
)

// minSplitDetails is the fewest packages per details query worth a
// connection of its own.
const minSplitDetails = 32

// splitDetails runs details in up to GOMAXPROCS (at most 4, the read pool's
// floor) queries at once over the wanted packages, dealt out in turn (sizes
// vary a thousandfold: the Linux kernel's records are megabytes). Copying a
// large report's records out of SQLite is CPU (8.6 MB from 113 packages
// for the 700-package image), and a second core halves it. Each run's
// packages are distinct, so each run's advisories are its own.
func (s *Store) splitDetails(ctx context.Context, feed string, w detailWant, brief bool) error {
	packages := slices.Sorted(maps.Keys(w))
	n := min(runtime.GOMAXPROCS(0), 4, len(packages)/minSplitDetails)
	if n < 2 {
		return s.details(ctx, feed, packages, w, brief)
	}
	runs := make([][]string, n)
	for i, p := range packages {
		runs[i%n] = append(runs[i%n], p)
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, run := range runs {
		g.Go(func() error { return s.details(ctx, feed, run, w, brief) })
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
	n := split.Runs(0, len(packages), minSplitPackages)
	if n < 2 || ctx.Value(splitRun{}) != nil {
		return nil, false, nil
	}
	ctx = context.WithValue(ctx, splitRun{}, true) // a run is not split again
	out, err = split.Concat(ctx, packages, n, func(ctx context.Context, run []string) ([]*vuln.Advisory, error) {
		return s.Advisories(ctx, namespace, run)
	})
	return out, true, err
}
