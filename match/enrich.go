package match

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// EnrichmentReader is implemented by stores that keep the enrichment feeds'
// records (nvd, cvelist, epss, kev). A matcher on a store without it makes
// reports without enrichments.
type EnrichmentReader interface {
	Enrichments(ctx context.Context, cves []string) ([]*vuln.Enrichment, error)
}

// maxEnrichCached bounds the enrichment cache (in CVEs).
const maxEnrichCached = 200_000

// enrichCache keeps the records read per CVE (none too: most CVEs of a
// report have no KEV entry) until a feed changes, as cache does for
// advisories: a warm report's enrichment is then map look-ups.
type enrichCache struct {
	mu   sync.RWMutex
	gen  string
	recs map[string][]*vuln.Enrichment
}

// cveIDs are the CVE ids a vulnerability goes by: its name, and its
// aliases (a GHSA or an Alpine or Go advisory whose alias is a CVE).
func cveIDs(v *vuln.Vulnerability) []string {
	var ids []string
	if vuln.IsCVE(v.Name) {
		ids = append(ids, strings.ToUpper(v.Name))
	}
	for _, a := range v.Aliases {
		if vuln.IsCVE(a) {
			ids = append(ids, strings.ToUpper(a))
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// enrich attaches the enrichment feeds' data to the report's
// vulnerabilities: Clair's clair.cvss enrichment (the CVSS object of the
// preferred score, vuln.CVSSRank), clair.epss and clair.kev; and, where the
// distribution or ecosystem gave no severity, the preferred CVSS base
// severity, with SeveritySource saying which. Every vulnerability with a
// severity gets its SeveritySource.
func (m *Matcher) enrich(ctx context.Context, vr *vuln.VulnerabilityReport) error {
	for _, v := range vr.Vulnerabilities {
		if v.NormalizedSeverity != vuln.Unknown && v.SeveritySource == "" {
			v.SeveritySource = v.Updater
		}
	}
	er, ok := m.Store.(EnrichmentReader)
	if !ok || len(vr.Vulnerabilities) == 0 {
		return nil
	}
	idsOf := make(map[string][]string, len(vr.Vulnerabilities))
	var all []string
	for id, v := range vr.Vulnerabilities {
		ids := cveIDs(v)
		if len(ids) > 0 {
			idsOf[id] = ids
			all = append(all, ids...)
		}
	}
	if len(all) == 0 {
		return nil
	}
	slices.Sort(all)
	recs, err := m.enrichments(ctx, er, slices.Compact(all))
	if err != nil {
		return fmt.Errorf("match: enrichments: %w", err)
	}
	cvssOut := map[string][]json.RawMessage{}
	epssOut := map[string][]vuln.EPSS{}
	kevOut := map[string][]vuln.KEV{}
	for _, id := range sortedKeys(idsOf) {
		v := vr.Vulnerabilities[id]
		var best *vuln.CVSS
		for _, cve := range idsOf[id] {
			for _, e := range recs[cve] {
				for i := range e.CVSS {
					c := &e.CVSS[i]
					if best == nil || preferredCVSS(c, best) {
						best = c
					}
				}
				if e.EPSS != nil {
					epssOut[id] = append(epssOut[id], *e.EPSS)
				}
				if e.KEV != nil {
					kevOut[id] = append(kevOut[id], *e.KEV)
				}
			}
		}
		if best == nil {
			continue
		}
		if len(best.Data) > 0 {
			cvssOut[id] = []json.RawMessage{best.Data}
		}
		if v.NormalizedSeverity == vuln.Unknown {
			if s := vuln.SeverityOfCVSS(best.Severity); s != vuln.Unknown {
				v.NormalizedSeverity = s
				v.SeveritySource = "cvss:" + best.Source + " " + best.Version
			}
		}
	}
	if len(cvssOut) > 0 {
		vr.Enrichments[vuln.CVSSEnrichment] = []any{cvssOut}
	}
	if len(epssOut) > 0 {
		vr.Enrichments[vuln.EPSSEnrichment] = []any{epssOut}
	}
	if len(kevOut) > 0 {
		vr.Enrichments[vuln.KEVEnrichment] = []any{kevOut}
	}
	return nil
}

// preferredCVSS says whether score a is preferred to b: by source and version
// (vuln.CVSSRank), then the higher score (a vulnerability known by two CVEs
// is as severe as the worse).
func preferredCVSS(a, b *vuln.CVSS) bool {
	if c := cmp.Compare(vuln.CVSSRank(*a), vuln.CVSSRank(*b)); c != 0 {
		return c < 0
	}
	return a.Score > b.Score
}

// enrichments returns the records of these CVEs, from the cache where it
// is current.
func (m *Matcher) enrichments(ctx context.Context, er EnrichmentReader, cves []string) (map[string][]*vuln.Enrichment, error) {
	gen, cacheable := "", false
	if g, ok := m.Store.(Generationer); ok {
		states, err := g.FeedStates(ctx)
		if err != nil {
			return nil, err
		}
		gen, cacheable = store.Generation(states), true
	}
	c := &m.ecache
	out := make(map[string][]*vuln.Enrichment, len(cves))
	missing := cves
	if cacheable {
		missing = nil
		c.mu.RLock()
		current := c.gen == gen && c.recs != nil
		for _, id := range cves {
			if rs, ok := c.recs[id]; ok && current {
				out[id] = rs
			} else {
				missing = append(missing, id)
			}
		}
		c.mu.RUnlock()
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := er.Enrichments(ctx, missing)
	if err != nil {
		return nil, err
	}
	fetched := make(map[string][]*vuln.Enrichment, len(missing))
	for _, id := range missing {
		fetched[id] = nil
	}
	for _, e := range got {
		id := strings.ToUpper(e.CVE)
		fetched[id] = append(fetched[id], e)
	}
	for id, rs := range fetched {
		// Feed order, so that a report lists EPSS and KEV the same way
		// every time.
		slices.SortFunc(rs, func(a, b *vuln.Enrichment) int { return cmp.Compare(a.Feed, b.Feed) })
		out[id] = rs
	}
	if cacheable {
		c.mu.Lock()
		if c.gen != gen || c.recs == nil || len(c.recs) > maxEnrichCached {
			c.gen, c.recs = gen, map[string][]*vuln.Enrichment{}
		}
		for id, rs := range fetched {
			c.recs[id] = rs
		}
		c.mu.Unlock()
	}
	return out, nil
}
