package updater

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/openclair/clair/feed"
)

// TryLocker takes named locks shared by every instance of a store.
type TryLocker interface {
	TryLock(ctx context.Context, key string) (unlock func(), ok bool, err error)
}

// Scheduler runs the updaters in the background of a server: at start, then
// every Period. Each feed is updated by one instance at a time: an instance
// that finds a feed's lock held leaves that update to the holder. After a
// round, old update operations beyond Retention are deleted.
type Scheduler struct {
	Updater *Updater
	Locks   TryLocker
	Feeds   []feed.Feed
	Period  time.Duration
	// Retention is how many update operations each feed keeps; GC (when
	// set) is called with it after every round.
	Retention int
	GC        func(ctx context.Context, keep int) (int, error)
	// OnResult is told the outcome of every feed update this instance ran.
	OnResult func(Result)
	Log      *slog.Logger
}

// RetryAfter is how soon a round with a failed feed is tried again (when
// shorter than the period): a feed down for a minute should not leave the
// data stale for six hours. Unchanged feeds cost one request each.
const RetryAfter = 10 * time.Minute

// Run blocks until ctx is done.
func (s *Scheduler) Run(ctx context.Context) {
	for {
		period := s.Period
		for _, r := range s.Round(ctx) {
			if r.Err != nil && RetryAfter < period {
				period = RetryAfter
			}
		}
		// A little jitter keeps instances started together from asking
		// upstream at the same instant forever after.
		wait := period + time.Duration(rand.Int64N(int64(period/20)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Round updates every feed whose lock it gets, once, and collects garbage.
func (s *Scheduler) Round(ctx context.Context) []Result {
	var mine []feed.Feed
	var unlocks []func()
	for _, f := range s.Feeds {
		unlock, ok, err := s.Locks.TryLock(ctx, "feed:"+f.Name())
		if err != nil {
			s.log().Error("updater lock", "feed", f.Name(), "err", err)
			continue
		}
		if !ok {
			s.log().Debug("feed being updated by another instance", "feed", f.Name())
			continue
		}
		mine = append(mine, f)
		unlocks = append(unlocks, unlock)
	}
	defer func() {
		for _, u := range unlocks {
			u()
		}
	}()
	res, _ := s.Updater.Run(ctx, mine)
	for _, r := range res {
		if r.Err != nil {
			s.log().Error("feed update failed", "feed", r.Feed, "url", r.URL, "err", r.Err)
		}
		if s.OnResult != nil {
			s.OnResult(r)
		}
	}
	if s.GC != nil && s.Retention > 0 && ctx.Err() == nil {
		if n, err := s.GC(ctx, s.Retention); err != nil {
			s.log().Error("update operation gc", "err", err)
		} else if n > 0 {
			s.log().Info("update operations deleted", "count", n, "keep", s.Retention)
		}
	}
	return res
}
