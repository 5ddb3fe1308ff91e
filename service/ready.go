package service

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// FeedsReady says whether each of the configured feeds has data: a
// matcher whose feeds all failed answers every report with "no
// vulnerabilities", which is worse than not answering, so it is not ready
// until each feed has been written once. The error names the feeds
// missing.
func FeedsReady(ctx context.Context, st FeedStater, feeds []string) error {
	if len(feeds) == 0 {
		return nil
	}
	states, err := st.FeedStates(ctx)
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	have := map[string]bool{}
	for _, s := range states {
		if s.Operation != "" || !s.UpdatedAt.IsZero() {
			have[s.Feed] = true
		}
	}
	var missing []string
	for _, f := range feeds {
		if !have[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("feeds without data yet: %s", strings.Join(missing, ", "))
	}
	return nil
}
