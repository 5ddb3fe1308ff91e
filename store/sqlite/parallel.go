package sqlite

import (
	"context"
	"runtime"

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
