package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// ReportSource gives the matcher index reports: the shared store, or the
// indexer's API when the matcher runs apart from it on another database.
type ReportSource interface {
	IndexReport(ctx context.Context, manifest string) (*vuln.IndexReport, error)
}

// Matcher computes vulnerability reports from today's data.
type Matcher struct {
	Reports ReportSource
	Match   *match.Matcher
	// Observe, when set, is told how long each match took.
	Observe func(d time.Duration, err error)
	// Feeds, when set, lets ReportJSON keep encoded reports until a feed
	// changes (see reportCache); CacheBytes bounds them (0: the default).
	Feeds      FeedStater
	CacheBytes int64

	once  sync.Once
	cache *reportCache
}

// versioner is implemented by stores that can say when a manifest's
// report was written without reading it.
type versioner interface {
	IndexReportVersion(ctx context.Context, manifest string) (int64, error)
}

// ReportJSON matches the stored index report of manifest (store.ErrNotFound,
// wrapped, when there is none) and encodes it as the API serves it.
func (s *Matcher) ReportJSON(ctx context.Context, manifest string) (*Encoded, error) {
	if err := checkDigest(manifest); err != nil {
		return nil, err
	}
	var key, gen string
	var states []store.FeedState
	if s.Feeds != nil {
		var err error
		states, err = s.Feeds.FeedStates(ctx)
		if err != nil {
			return nil, fmt.Errorf("match %s: %w", manifest, err)
		}
		s.once.Do(func() {
			n := s.CacheBytes
			if n <= 0 {
				n = DefaultReportCacheBytes
			}
			s.cache = newReportCache(n)
		})
		// The key names the index report by when it was written (cheap),
		// or else by its index state once read.
		gen = store.Generation(states)
		if v, ok := s.Reports.(versioner); ok {
			ver, err := v.IndexReportVersion(ctx, manifest)
			if err != nil {
				return nil, storeError("index report of "+manifest, err)
			}
			key = fmt.Sprintf("%s\x00v%d\x00%s", manifest, ver, gen)
			if e, ok := s.cache.get(key); ok {
				return e, nil
			}
		}
	}
	ir, err := s.Reports.IndexReport(ctx, manifest)
	if err != nil {
		return nil, storeError("index report of "+manifest, err)
	}
	if ir.State == IndexError {
		// Matching nothing would read as "no vulnerabilities".
		return nil, errkind.New(errkind.BadContent, "the manifest could not be indexed: "+ir.Err)
	}
	if s.Feeds != nil && key == "" {
		key = manifest + "\x00s" + ir.IndexState + "\x00" + gen
		if e, ok := s.cache.get(key); ok {
			return e, nil
		}
	}
	start := time.Now()
	vr, err := s.Match.MatchStates(ctx, ir, states)
	if s.Observe != nil {
		s.Observe(time.Since(start), err)
	}
	if err != nil {
		return nil, fmt.Errorf("match %s: %w", manifest, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vr); err != nil {
		return nil, fmt.Errorf("match %s: encode: %w", manifest, err)
	}
	e := &Encoded{JSON: buf.Bytes()}
	if key != "" {
		s.cache.put(key, e)
	}
	return e, nil
}

// MatchReport matches an index report already in hand (the classic API's layer
// chains) against today's data, reading the feeds' states once, with the
// same metrics as ReportJSON.
func (s *Matcher) MatchReport(ctx context.Context, ir *vuln.IndexReport) (*vuln.VulnerabilityReport, error) {
	var states []store.FeedState
	if s.Feeds != nil {
		var err error
		if states, err = s.Feeds.FeedStates(ctx); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	vr, err := s.Match.MatchStates(ctx, ir, states)
	if s.Observe != nil {
		s.Observe(time.Since(start), err)
	}
	return vr, err
}
