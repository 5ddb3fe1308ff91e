package service

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/updater"
)

// Database answers the classic API's database routes: each feed's state,
// and a run of the updaters on demand.
type Database struct {
	States FeedStater
	// Feeds are the configured feeds, listed even before their first
	// update.
	Feeds []string
	// Round runs the updaters once (updater.Scheduler.Round); nil when
	// this instance runs none.
	Round func(ctx context.Context) []updater.Result

	mu sync.Mutex // one run on demand at a time
}

// FeedStatus is one feed's state.
type FeedStatus struct {
	Name        string
	Fingerprint string
	UpdatedAt   time.Time // zero: no data yet
	CheckedAt   time.Time
	Advisories  int
}

// UpdateResult is one feed's result of a run on demand. Failed runs are
// logged with their cause; the client reads that they failed.
type UpdateResult struct {
	Feed       string
	Changed    bool
	Advisories int
	Failed     bool
}

// Status lists the configured feeds (and any other the store holds),
// sorted by name.
func (d *Database) Status(ctx context.Context) ([]FeedStatus, error) {
	states, err := d.States.FeedStates(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]FeedStatus{}
	for _, f := range d.Feeds {
		byName[f] = FeedStatus{Name: f}
	}
	for _, s := range states {
		byName[s.Feed] = FeedStatus{Name: s.Feed, Fingerprint: s.Fingerprint, UpdatedAt: s.UpdatedAt, CheckedAt: s.CheckedAt, Advisories: s.Advisories}
	}
	out := make([]FeedStatus, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Update runs the updaters now and waits for them. A second request while
// one runs is Busy.
func (d *Database) Update(ctx context.Context) ([]UpdateResult, error) {
	if d.Round == nil {
		return nil, errkind.New(errkind.Conflict, "this instance runs no updaters (matcher.disable_updaters)")
	}
	if !d.mu.TryLock() {
		return nil, errkind.New(errkind.Busy, "an update is already running")
	}
	defer d.mu.Unlock()
	res := d.Round(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]UpdateResult, 0, len(res))
	for _, r := range res {
		out = append(out, UpdateResult{Feed: r.Feed, Changed: r.Changed, Advisories: r.Advisories, Failed: r.Err != nil && !errors.Is(r.Err, context.Canceled)})
	}
	return out, nil
}
