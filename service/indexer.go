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
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// ErrBadRequest marks errors in what the client sent.
var ErrBadRequest = errors.New("bad request")

// ErrLayer marks a layer that could not be fetched or read: the fault is
// upstream of the server (or in the layer), not in the server.
var ErrLayer = errors.New("layer")

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

	mu       sync.Mutex
	inflight map[string]*call
	state    string
}

type call struct {
	done chan struct{}
	r    *vuln.IndexReport
	err  error
}

var digestRE = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)

// ValidDigest reports whether d is a digest the APIs accept.
func ValidDigest(d string) bool { return digestRE.MatchString(d) }

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
	return s.Store.IndexReport(ctx, manifest)
}

// Delete removes the reports of these manifests and returns those that were
// there.
func (s *Indexer) Delete(ctx context.Context, manifests []string) ([]string, error) {
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

	// One index per manifest in this process: later callers wait for the
	// first and share its result.
	s.mu.Lock()
	if s.inflight == nil {
		s.inflight = map[string]*call{}
	}
	if c, ok := s.inflight[m.Hash]; ok {
		s.mu.Unlock()
		select {
		case <-c.done:
			return c.r, false, c.err
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	s.inflight[m.Hash] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, m.Hash)
		s.mu.Unlock()
		close(c.done)
	}()
	c.r, created, c.err = s.indexLocked(ctx, m)
	return c.r, created, c.err
}

// indexLocked indexes under the store's lock, so that two instances asked
// for the same manifest at once index it once.
func (s *Indexer) indexLocked(ctx context.Context, m *vuln.Manifest) (*vuln.IndexReport, bool, error) {
	if l, ok := s.Store.(Locker); ok {
		unlock, err := l.Lock(ctx, "index:"+m.Hash)
		if err != nil {
			return nil, false, fmt.Errorf("index %s: lock: %w", m.Hash, err)
		}
		defer unlock()
		if r, ok, err := s.current(ctx, m.Hash); err != nil || ok {
			return r, false, err
		}
	}
	start := time.Now()
	r, err := s.index(ctx, m)
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
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	defer img.Close()
	img.ManifestDigest = m.Hash
	r, err := s.Indexer.Index(ctx, img)
	var le *image.LayerError
	switch {
	case errors.As(err, &le):
		return nil, fmt.Errorf("%w: index %s: %w", ErrLayer, m.Hash, err)
	case err != nil:
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
		return fmt.Errorf("%w: no manifest", ErrBadRequest)
	}
	if !ValidDigest(m.Hash) {
		return fmt.Errorf("%w: hash: %q is not a digest (sha256:<64 hex>)", ErrBadRequest, m.Hash)
	}
	return nil
}
