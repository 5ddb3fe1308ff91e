// Package service holds what the server's APIs call: the indexer (a
// manifest in, an index report out, each manifest indexed once however
// many instances are asked at once) and the matcher (a vulnerability report
// computed from the stored index report and today's data on every call).
package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/openclair/clair/digest"
	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// IndexStore is what the indexer keeps.
type IndexStore interface {
	index.LayerStore
	PutIndexReport(ctx context.Context, r *vuln.IndexReport) error
	IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error)
	DeleteIndexReports(ctx context.Context, manifests []string) (deleted []string, err error)
}

// Locker is implemented by stores shared by several instances: Lock holds
// a named lock across all of them.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Fetcher turns a manifest into an image whose layers stream from their URIs.
type Fetcher interface {
	Image(m *vuln.Manifest) (*image.Image, error)
}

// Indexer indexes manifests posted to the API.
type Indexer struct {
	Store   IndexStore
	Fetcher Fetcher
	Indexer *index.Indexer
	Log     *slog.Logger
	// Observe, when set, is told how long each index took and whether it failed.
	Observe func(d time.Duration, err error)
	// Concurrency bounds the manifests indexed at once (Clair's
	// indexer.index_report_request_concurrency): past it Index fails with
	// errkind.Busy at once, as Clair answers 429, rather than queueing
	// work the client may have given up on. 0 means
	// DefaultConcurrencyPerCPU a CPU, <0 no bound. Reports already indexed
	// are answered whatever the load.
	Concurrency int
	// Timeout bounds the indexing of one manifest, all layers included;
	// <=0 means DefaultManifestTimeout.
	Timeout time.Duration

	mu       sync.Mutex
	inflight map[string]*call
	state    string
	slots    chan struct{}
}

// Defaults for an Indexer's zero fields.
const (
	DefaultConcurrencyPerCPU = 4
	DefaultManifestTimeout   = 30 * time.Minute
)

// errManifestTimeout is the cause of a manifest's deadline.
var errManifestTimeout = errors.New("manifest deadline")

type call struct {
	done chan struct{}
	r    *vuln.IndexReport
	err  error
}

// ValidDigest reports whether d is a digest the APIs accept (package
// digest is their one home).
func ValidDigest(d string) bool { return digest.Valid(d) }

// checkDigest is the Invalid error of a bad manifest digest in a path.
func checkDigest(d string) error {
	if _, err := digest.Parse(d); err != nil {
		return errkind.Wrap(errkind.Invalid, err.Error()+": not a manifest digest", err)
	}
	return nil
}

// storeError gives a store's error its kind: a missing report is
// NotFound with a message that does not quote the store, anything else
// keeps what errkind recognises (a database away is Unavailable).
func storeError(what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errkind.Wrap(errkind.NotFound, what+" not found", err)
	}
	return err
}

// State names the indexer's configuration: its scanners and their
// versions. A client that sees it change knows its reports may be stale.
func (s *Indexer) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == "" {
		var parts []string
		for _, sc := range s.Indexer.Scanners {
			parts = append(parts, sc.Name()+"@"+sc.Version())
		}
		sort.Strings(parts)
		h := sha256.New()
		for _, p := range parts {
			h.Write([]byte(p + "\n"))
		}
		s.state = hex.EncodeToString(h.Sum(nil))[:32]
	}
	return s.state
}

// Report returns the stored report of a manifest (store.ErrNotFound when
// none).
func (s *Indexer) Report(ctx context.Context, manifest string) (*vuln.IndexReport, error) {
	if err := checkDigest(manifest); err != nil {
		return nil, err
	}
	r, err := s.Store.IndexReport(ctx, manifest)
	if err != nil {
		return nil, storeError("index report of "+manifest, err)
	}
	return r, nil
}

// Delete removes the reports of these manifests and returns those that were
// there.
func (s *Indexer) Delete(ctx context.Context, manifests []string) ([]string, error) {
	for i, d := range manifests {
		if _, err := digest.Parse(d); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, fmt.Sprintf("[%d]: %v: not a manifest digest", i, err), err)
		}
	}
	return s.Store.DeleteIndexReports(ctx, manifests)
}

// Index returns the manifest's report, indexing it when it has none of the
// current state. created is true when this call indexed it. A failure is
// never stored: the next request tries again.
func (s *Indexer) Index(ctx context.Context, m *vuln.Manifest) (r *vuln.IndexReport, created bool, err error) {
	if err := checkManifest(m); err != nil {
		return nil, false, err
	}
	if r, ok, err := s.current(ctx, m.Hash); err != nil || ok {
		return r, false, err
	}

	return s.once(ctx, m.Hash, func(ctx context.Context) (*vuln.IndexReport, bool, error) {
		return s.current(ctx, m.Hash)
	}, func(ctx context.Context) (*vuln.IndexReport, error) {
		return s.index(ctx, m)
	})
}

// once runs work for key once however many callers ask at once: in this
// process later callers wait for the first and share its result, and
// under the store's lock two instances do it once (the second finds it
// done through current). It takes a manifest slot, and bounds work by the
// manifest deadline.
func (s *Indexer) once(ctx context.Context, key string,
	current func(context.Context) (*vuln.IndexReport, bool, error),
	work func(context.Context) (*vuln.IndexReport, error)) (r *vuln.IndexReport, created bool, err error) {
	s.mu.Lock()
	if s.inflight == nil {
		s.inflight = map[string]*call{}
	}
	for {
		c, ok := s.inflight[key]
		if !ok {
			break
		}
		s.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		// The first caller's client left, which ended its work: this
		// caller's has not, so it does the work itself.
		if errkind.Of(c.err) != errkind.Canceled || ctx.Err() != nil {
			return c.r, false, c.err
		}
		s.mu.Lock()
	}
	if !s.acquire() {
		s.mu.Unlock()
		return nil, false, errkind.New(errkind.Busy, "the indexer is at its limit of manifests indexed at once: retry later")
	}
	defer s.release()
	c := &call{done: make(chan struct{})}
	s.inflight[key] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, key)
		s.mu.Unlock()
		close(c.done)
	}()
	c.r, created, c.err = s.locked(ctx, key, current, work)
	return c.r, created, c.err
}

// locked does work under the store's lock, so that two instances asked
// for the same key at once do it once.
func (s *Indexer) locked(ctx context.Context, key string,
	current func(context.Context) (*vuln.IndexReport, bool, error),
	work func(context.Context) (*vuln.IndexReport, error)) (*vuln.IndexReport, bool, error) {
	if l, ok := s.Store.(Locker); ok {
		unlock, err := l.Lock(ctx, "index:"+key)
		if err != nil {
			return nil, false, fmt.Errorf("index %s: lock: %w", key, err)
		}
		defer unlock()
		if current != nil {
			if r, ok, err := current(ctx); err != nil || ok {
				return r, false, err
			}
		}
	}
	start := time.Now()
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultManifestTimeout
	}
	tctx, cancel := context.WithTimeoutCause(ctx, timeout, errManifestTimeout)
	defer cancel()
	r, err := work(tctx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(tctx), errManifestTimeout) {
		err = errkind.Wrap(errkind.Timeout, fmt.Sprintf("indexing %s took longer than %s", key, timeout), err)
	}
	if s.Observe != nil {
		s.Observe(time.Since(start), err)
	}
	if err != nil {
		return nil, false, err
	}
	return r, true, nil
}

func (s *Indexer) index(ctx context.Context, m *vuln.Manifest) (*vuln.IndexReport, error) {
	img, err := s.Fetcher.Image(m)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	img.ManifestDigest = m.Hash
	r, err := s.Indexer.Index(ctx, img)
	if err != nil {
		if errkind.Of(err) == errkind.BadContent {
			s.recordFailure(ctx, m.Hash, err)
		}
		// The kind and public message stay the index's; the log gets
		// the manifest.
		return nil, fmt.Errorf("index %s: %w", m.Hash, err)
	}
	r.ManifestHash = m.Hash
	r.IndexState = s.State()
	if err := s.Store.PutIndexReport(ctx, r); err != nil {
		return nil, fmt.Errorf("index %s: store: %w", m.Hash, err)
	}
	if s.Log != nil {
		s.Log.Info("indexed", "manifest", m.Hash, "layers", len(m.Layers), "packages", len(r.Packages))
	}
	return r, nil
}

// IndexError is Clair's State of a report whose indexing failed.
const IndexError = "IndexError"

// recordFailure stores the report of a manifest whose content cannot be
// indexed, so that GET index_report says why (Clair's IndexError state and
// err). Only the caller's content gets one: a transient failure (a source
// down, the database away) is not the manifest's state. The next POST
// tries again, since only a finished report is current.
func (s *Indexer) recordFailure(ctx context.Context, manifest string, err error) {
	r := &vuln.IndexReport{ManifestHash: manifest, State: IndexError, Err: errkind.Public(err), IndexState: s.State()}
	if perr := s.Store.PutIndexReport(context.WithoutCancel(ctx), r); perr != nil && s.Log != nil {
		s.Log.Warn("recording a failed index", "manifest", manifest, "err", perr)
	}
}

// Indexed reports whether the manifest has a finished report of the
// current state.
func (s *Indexer) Indexed(ctx context.Context, manifest string) (*vuln.IndexReport, bool, error) {
	return s.current(ctx, manifest)
}

// current returns the stored report when it is finished and of this state.
func (s *Indexer) current(ctx context.Context, manifest string) (*vuln.IndexReport, bool, error) {
	r, err := s.Store.IndexReport(ctx, manifest)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	if r.State != vuln.IndexFinished || r.IndexState != s.State() {
		return nil, false, nil
	}
	return r, true, nil
}

// checkManifest checks what the indexer needs before its store look-ups;
// the layers are the Fetcher's to check (layerfetch names the bad field).
func checkManifest(m *vuln.Manifest) error {
	if m == nil {
		return errkind.New(errkind.Invalid, "no manifest")
	}
	if _, err := digest.Parse(m.Hash); err != nil {
		return errkind.Wrap(errkind.Invalid, "hash: "+err.Error(), err)
	}
	return nil
}

// acquire takes a manifest slot if one is free; s.mu is held.
func (s *Indexer) acquire() bool {
	if s.slots == nil {
		n := s.Concurrency
		switch {
		case n < 0:
			return true
		case n == 0:
			n = DefaultConcurrencyPerCPU * runtime.GOMAXPROCS(0)
		}
		s.slots = make(chan struct{}, n)
	}
	select {
	case s.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Indexer) release() {
	if s.slots != nil {
		<-s.slots
	}
}
