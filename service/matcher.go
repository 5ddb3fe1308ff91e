package service

import (
	"context"
	"sync"
	"time"

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
	return s.StreamReportJSON(ctx, manifest, false, nil)
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
