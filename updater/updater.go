// Package updater brings feeds up to date in a store: fetch each feed's
// snapshot (one cheap request when unchanged), parse it, and replace the
// stored snapshot in one transaction.
package updater

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// Store is the subset of store.Store the updater writes.
type Store interface {
	FeedState(ctx context.Context, feed string) (store.FeedState, error)
	ReplaceFeed(ctx context.Context, feed, fingerprint string, load func(emit func(*vuln.Advisory) error) error) (store.UpdateOperation, error)
	TouchFeed(ctx context.Context, feed string) error
}

// Updater runs feeds against a store.
type Updater struct {
	Store  Store
	Client *http.Client // nil = a client with a generous timeout
	// URLs overrides feeds' default URLs by feed name (mirrors, file://).
	URLs map[string]string
	// TempDir holds snapshots while they are parsed; "" = os.TempDir().
	TempDir string
	Log     *slog.Logger
	// Force accepts a snapshot that loses most of a feed (see
	// ShrinkError), which is otherwise refused.
	Force bool

	cleanOnce sync.Once
}

// Shrink guard: a new snapshot is refused, and the stored one kept, when
// the stored snapshot has advisories and the new one has none, or when the
// stored one has at least ShrinkMinimum advisories and the new one keeps
// fewer than ShrinkRatio of them. An empty but valid document ("{}" for
// Debian), a mirror caught mid-sync or a truncated export would otherwise
// replace a feed with nothing, and every later scan would pass with no
// findings. Upstream feeds do not lose half their advisories in one day.
const (
	ShrinkMinimum = 1000
	ShrinkRatio   = 0.5
)

// ShrinkError is the refusal of a snapshot that loses most of a feed.
type ShrinkError struct {
	Feed           string
	Stored, Parsed int // advisories in the stored and the new snapshot
}

func (e *ShrinkError) Error() string {
	return fmt.Sprintf("the new snapshot of %s has %d advisories where the stored one has %d: refused, the stored one is kept (a feed of %d or more advisories may not lose more than %d%% at once, nor any feed all; force the update to accept it: clairctl update --force)",
		e.Feed, e.Parsed, e.Stored, ShrinkMinimum, int(100*(1-ShrinkRatio)))
}

// shrinks reports whether replacing stored advisories with parsed loses
// most of the feed.
func shrinks(stored, parsed int) bool {
	if stored > 0 && parsed == 0 {
		return true
	}
	return stored >= ShrinkMinimum && float64(parsed) < ShrinkRatio*float64(stored)
}

// Result is the outcome of one feed's update.
type Result struct {
	Feed       string
	URL        string
	Changed    bool
	Advisories int
	Duration   time.Duration
	Err        error
}

// Run updates the feeds concurrently (fetching is network-bound; the store
// serializes the writes). It returns one Result per feed, in the order given,
// and the errors joined.
func (u *Updater) Run(ctx context.Context, feeds []feed.Feed) ([]Result, error) {
	u.cleanOnce.Do(u.cleanTemp)
	res := make([]Result, len(feeds))
	var wg sync.WaitGroup
	for i, f := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = u.one(ctx, f)
		}()
	}
	wg.Wait()
	var errs []error
	for _, r := range res {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return res, errors.Join(errs...)
}

// cleanTemp removes the snapshots that killed updates left (once per
// Updater): a 20 MB file per kill adds up on a server restarted by its
// orchestrator.
func (u *Updater) cleanTemp() {
	dirs := []string{os.TempDir()}
	if u.TempDir != "" && filepath.Clean(u.TempDir) != filepath.Clean(os.TempDir()) {
		dirs = append(dirs, u.TempDir)
	}
	for _, d := range dirs {
		removed, err := feed.CleanTemp(d)
		if len(removed) > 0 {
			u.log().Info("removed leftovers of earlier updates", "dir", d, "count", len(removed))
		}
		if err != nil {
			u.log().Warn("cleaning leftovers of earlier updates", "err", err)
		}
	}
}

func (u *Updater) url(f feed.Feed) string {
	if v, ok := u.URLs[f.Name()]; ok && v != "" {
		return v
	}
	return f.DefaultURL()
}

func (u *Updater) client() *http.Client {
	if u.Client != nil {
		return u.Client
	}
	return &http.Client{Timeout: 10 * time.Minute}
}

func (u *Updater) log() *slog.Logger {
	if u.Log != nil {
		return u.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (u *Updater) one(ctx context.Context, f feed.Feed) (r Result) {
	start := time.Now()
	r = Result{Feed: f.Name(), URL: u.url(f)}
	defer func() { r.Duration = time.Since(start) }()

	prev := ""
	st, err := u.Store.FeedState(ctx, f.Name())
	switch {
	case err == nil:
		prev = st.Fingerprint
	case errors.Is(err, store.ErrNotFound):
	default:
		r.Err = fmt.Errorf("update %s: %w", f.Name(), err)
		return r
	}

	tmp, err := feed.CreateTemp(u.TempDir, f.Name())
	if err != nil {
		r.Err = fmt.Errorf("update %s: %w", f.Name(), err)
		return r
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()

	fp, err := f.Fetch(ctx, u.client(), r.URL, prev, tmp)
	if errors.Is(err, feed.ErrUnchanged) {
		if err := u.Store.TouchFeed(ctx, f.Name()); err != nil {
			r.Err = fmt.Errorf("update %s: %w", f.Name(), err)
		}
		r.Advisories = st.Advisories
		u.log().Info("feed unchanged", "feed", f.Name(), "url", r.URL)
		return r
	}
	if err != nil {
		r.Err = fmt.Errorf("update %s: fetch %s: %w", f.Name(), r.URL, err)
		return r
	}
	fi, err := tmp.Stat()
	if err != nil {
		r.Err = fmt.Errorf("update %s: %w", f.Name(), err)
		return r
	}
	op, err := u.replace(ctx, f, fp, tmp, fi.Size(), st.Advisories)
	if err != nil {
		r.Err = fmt.Errorf("update %s: %w", f.Name(), err)
		return r
	}
	r.Changed = true
	r.Advisories = op.Advisories
	u.log().Info("feed updated", "feed", f.Name(), "url", r.URL, "advisories", op.Advisories, "seconds", time.Since(start).Seconds())
	return r
}
