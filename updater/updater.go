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

	tmp, err := os.CreateTemp(u.TempDir, "clair-feed-"+f.Name()+"-*")
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
	op, err := u.replace(ctx, f, fp, tmp, fi.Size())
	if err != nil {
		r.Err = fmt.Errorf("update %s: %w", f.Name(), err)
		return r
	}
	r.Changed = true
	r.Advisories = op.Advisories
	u.log().Info("feed updated", "feed", f.Name(), "url", r.URL, "advisories", op.Advisories, "took", time.Since(start).Round(time.Millisecond))
	return r
}
