// Package rowscan is what the two stores do with rows once their database
// returned them: the same loops over database/sql's and pgx's results,
// which share Next, Scan and Err, so that only the SQL differs.
package rowscan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// Rows is what both stores' query results offer.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// CVEKeys returns the enrichment keys of cves (ids in any case): upper
// case, sorted, each once.
func CVEKeys(cves []string) []string {
	ids := make([]string, len(cves))
	for i, c := range cves {
		ids[i] = strings.ToUpper(c)
	}
	return slices.Compact(slices.Sorted(slices.Values(ids)))
}

// Enrichments decodes rows of (feed, stored record) into records with
// Feed set.
func Enrichments(rows Rows) ([]*vuln.Enrichment, error) {
	var out []*vuln.Enrichment
	for rows.Next() {
		var (
			feed string
			rec  []byte
		)
		if err := rows.Scan(&feed, &rec); err != nil {
			return nil, err
		}
		e := &vuln.Enrichment{}
		if err := decodeEnrichment(rec, e); err != nil {
			return nil, fmt.Errorf("feed %s: %w", feed, err)
		}
		e.Feed = feed
		out = append(out, e)
	}
	return out, rows.Err()
}

// EachEnrichment decodes rows of (cve, stored record) of one feed and
// calls fn with each, Feed set; fn's error ends the loop and is returned
// as it is, rowscan's own start with prefix.
func EachEnrichment(rows Rows, prefix, feed string, fn func(*vuln.Enrichment) error) error {
	for rows.Next() {
		var (
			cve string
			rec []byte
		)
		if err := rows.Scan(&cve, &rec); err != nil {
			return fmt.Errorf("%s: %w", prefix, err)
		}
		e := &vuln.Enrichment{}
		if err := decodeEnrichment(rec, e); err != nil {
			return fmt.Errorf("%s: %s: %w", prefix, cve, err)
		}
		e.Feed = feed
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	return nil
}

// DetailsByFeed groups advs (nil ones skipped) by feed and name and calls
// details once per feed with the distinct names and the advisories of
// each, for it to fill: the stores read details with one query per feed.
func DetailsByFeed(advs []*vuln.Advisory, details func(feed string, names []string, m map[string][]*vuln.Advisory) error) error {
	byFeed := map[string]map[string][]*vuln.Advisory{}
	for _, a := range advs {
		if a == nil {
			continue
		}
		m := byFeed[a.Feed]
		if m == nil {
			m = map[string][]*vuln.Advisory{}
			byFeed[a.Feed] = m
		}
		m[a.Name] = append(m[a.Name], a)
	}
	for feed, m := range byFeed {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		// In index order, the look-ups walk the index forward rather than
		// jumping about it: a cold large report's details read half the
		// pages (BenchmarkFirstReport/match-cold).
		slices.Sort(names)
		if err := details(feed, names, m); err != nil {
			return err
		}
	}
	return nil
}

// FeedStates decodes rows of (name, fingerprint, updated_at and
// checked_at in Unix nanoseconds, advisories, operation).
func FeedStates(rows Rows) ([]store.FeedState, error) {
	var out []store.FeedState
	for rows.Next() {
		var st store.FeedState
		var updated, checked int64
		if err := rows.Scan(&st.Feed, &st.Fingerprint, &updated, &checked, &st.Advisories, &st.Operation); err != nil {
			return nil, err
		}
		st.UpdatedAt, st.CheckedAt = time.Unix(0, updated).UTC(), time.Unix(0, checked).UTC()
		out = append(out, st)
	}
	return out, rows.Err()
}

// Manifests decodes rows of (manifest, updated_at in Unix nanoseconds).
func Manifests(rows Rows) ([]store.ManifestInfo, error) {
	var out []store.ManifestInfo
	for rows.Next() {
		var m store.ManifestInfo
		var at int64
		if err := rows.Scan(&m.Manifest, &at); err != nil {
			return nil, err
		}
		m.UpdatedAt = time.Unix(0, at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}
