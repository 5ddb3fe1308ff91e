package service

import (
	"context"
	"fmt"
	"time"

	"github.com/openclair/clair/match"
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
}

// Report matches the stored index report of manifest (store.ErrNotFound,
// wrapped, when there is none).
func (s *Matcher) Report(ctx context.Context, manifest string) (*vuln.VulnerabilityReport, error) {
	ir, err := s.Reports.IndexReport(ctx, manifest)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	vr, err := s.Match.Match(ctx, ir)
	if s.Observe != nil {
		s.Observe(time.Since(start), err)
	}
	if err != nil {
		return nil, fmt.Errorf("match %s: %w", manifest, err)
	}
	return vr, nil
}
