// Package epss is FIRST's Exploit Prediction Scoring System
// (https://www.first.org/epss/), an enrichment feed: one CSV a day, gzipped,
// giving each CVE the probability of exploitation activity in the next 30
// days (epss) and its rank among all scored CVEs (percentile).
package epss

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "epss"

// DefaultURL is FIRST's current scores.
const DefaultURL = "https://epss.cyentia.com/epss_scores-current.csv.gz"

func init() { feed.Register(New()) }

// Feed is the EPSS feed.
type Feed struct{ feed.Document }

var _ feed.Enricher = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{feed.Document{FeedName: Name, URL: DefaultURL}} }

// Parse implements feed.Feed: EPSS holds no advisories; the file is read
// through so that a broken one is an error whichever way it is read.
func (f *Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, _ func(*vuln.Advisory) error) error {
	return f.ParseEnrichments(ctx, snap, size, func(*vuln.Enrichment) error { return nil })
}

// maxRows bounds the file (about 280,000 CVEs in 2025).
const maxRows = 10_000_000

// ParseEnrichments implements feed.Enricher. The file is
//
//	#model_version:v2023.03.01,score_date:2024-10-25T00:00:00+0000
//	cve,epss,percentile
//	CVE-1999-0001,0.01528,0.80802
//
// gzipped or not. Every line is checked: a CVE id, two numbers in [0, 1];
// the first bad line stops the parse with its number and field, so that a
// truncated or foreign file never replaces good scores. A CVE listed twice
// keeps its first row.
func (*Feed) ParseEnrichments(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Enrichment) error) error {
	r, _, err := feed.Decompress(io.NewSectionReader(snap, 0, size), feed.MaxDecompressed)
	if err != nil {
		return fmt.Errorf("epss: %w", err)
	}
	defer r.Close()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	line := func() int { l, _ := cr.FieldPos(0); return l }
	rec, err := cr.Read()
	if err != nil {
		return fmt.Errorf("epss: line 1: %w", eofIsUnexpected(err))
	}
	var model, date string
	if strings.HasPrefix(rec[0], "#") {
		for _, f := range rec {
			k, v, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(f), "#"), ":")
			switch k {
			case "model_version":
				model = v
			case "score_date":
				date = v
			}
		}
		if model == "" || date == "" {
			return fmt.Errorf("epss: line 1: want #model_version:…,score_date:…, got %q", strings.Join(rec, ","))
		}
		if rec, err = cr.Read(); err != nil {
			return fmt.Errorf("epss: line 2: header: %w", eofIsUnexpected(err))
		}
	}
	if len(rec) != 3 || rec[0] != "cve" || rec[1] != "epss" || rec[2] != "percentile" {
		return fmt.Errorf("epss: line %d: header %q, want \"cve,epss,percentile\"", line(), strings.Join(rec, ","))
	}
	if model == "" {
		return fmt.Errorf("epss: line 1: no #model_version/score_date line before the header")
	}
	seen := make(map[string]bool, 1<<12)
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("epss: %w", err)
		}
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if n >= maxRows {
			return fmt.Errorf("epss: line %d: more than %d rows", line(), maxRows)
		}
		if len(rec) != 3 {
			return fmt.Errorf("epss: line %d: %d fields, want 3 (cve,epss,percentile)", line(), len(rec))
		}
		if !vuln.IsCVE(rec[0]) {
			return fmt.Errorf("epss: line %d: field cve: %q is not a CVE id", line(), rec[0])
		}
		score, err := probability(rec[1])
		if err != nil {
			return fmt.Errorf("epss: line %d: field epss: %w", line(), err)
		}
		pct, err := probability(rec[2])
		if err != nil {
			return fmt.Errorf("epss: line %d: field percentile: %w", line(), err)
		}
		cve := strings.ToUpper(rec[0])
		if seen[cve] {
			continue
		}
		seen[cve] = true
		if err := emit(&vuln.Enrichment{CVE: cve, EPSS: &vuln.EPSS{
			ModelVersion: model, Date: date, CVE: cve, EPSS: score, Percentile: pct,
		}}); err != nil {
			return err
		}
	}
	if len(seen) == 0 {
		return fmt.Errorf("epss: no scores after the header")
	}
	return nil
}

func probability(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0, fmt.Errorf("%q is not a number between 0 and 1", s)
	}
	return f, nil
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("empty file: %w", io.ErrUnexpectedEOF)
	}
	return err
}
