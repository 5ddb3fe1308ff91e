package match

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/openclair/clair/internal/split"
	"github.com/openclair/clair/vuln"
)

// EnrichmentReader is implemented by stores that keep the enrichment feeds'
// records (nvd, cvelist, epss, kev). A matcher on a store without it makes
// reports without enrichments.
type EnrichmentReader interface {
	Enrichments(ctx context.Context, cves []string) ([]*vuln.Enrichment, error)
}

// EnrichmentProber is implemented by enrichment readers that can say
// cheaply whether they hold any record. Without enrichment feeds, a report
// then costs one such question per feed generation instead of a look-up of
// every CVE it names.
type EnrichmentProber interface {
	HasEnrichments(ctx context.Context) (bool, error)
}

// maxEnrichCached bounds the enrichment cache (in vulnerabilities).
const maxEnrichCached = 500_000

// enrichCache keeps what enrichment attaches to each report vulnerability
// (by its id, which names the advisory, and so its CVE ids) until a feed
// changes, as cache does for advisories: a warm report's enrichment is then
// one map look-up per vulnerability and the output maps.
type enrichCache struct {
	mu     sync.RWMutex
	gen    string
	byVuln map[string]*enriched
	// empty: at gen, the store held no enrichment record at all.
	empty bool
}

// enriched is what one vulnerability gets. Its slices are shared between
// reports: read-only.
type enriched struct {
	cvss []json.RawMessage // the preferred score's CVSS object, or nil
	sev  vuln.Severity     // its base severity, Unknown for none
	src  string            // "cvss:<source> <version>"
	epss []vuln.EPSS
	kev  []vuln.KEV
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
	got, err := m.enrichments(ctx, er, vr.Vulnerabilities)
	if err != nil {
		return fmt.Errorf("match: enrichments: %w", err)
	}
	var nc, ne, nk int
	for _, g := range got {
		if g.e.cvss != nil {
			nc++
		}
		if g.e.epss != nil {
			ne++
		}
		if g.e.kev != nil {
			nk++
		}
	}
	var (
		cvssOut = make(map[string][]json.RawMessage, nc)
		epssOut = make(map[string][]vuln.EPSS, ne)
		kevOut  = make(map[string][]vuln.KEV, nk)
	)
	for _, g := range got {
		id, v, e := g.id, g.v, g.e
		if e.cvss != nil {
			cvssOut[id] = e.cvss
		}
		if e.epss != nil {
			epssOut[id] = e.epss
		}
		if e.kev != nil {
			kevOut[id] = e.kev
		}
		if v.NormalizedSeverity == vuln.Unknown && e.sev != vuln.Unknown {
			v.NormalizedSeverity, v.SeveritySource = e.sev, e.src
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

// preferredCVSS says whether score a is preferred to b: by source and
// version (vuln.CVSSRank), then the higher score (a vulnerability known by
// two CVEs is as severe as the worse).
func preferredCVSS(a, b *vuln.CVSS) bool {
	if c := cmp.Compare(vuln.CVSSRank(*a), vuln.CVSSRank(*b)); c != 0 {
		return c < 0
	}
	return a.Score > b.Score
}

// enrichedVuln is one report vulnerability and what it gets.
type enrichedVuln struct {
	id string
	v  *vuln.Vulnerability
	e  *enriched
}

// none is the cached "nothing to attach".
var none = &enriched{}

// enrichments returns what each vulnerability gets (those that get nothing
// are left out), from the cache where it is current and from the store for
// the rest.
func (m *Matcher) enrichments(ctx context.Context, er EnrichmentReader, vulns map[string]*vuln.Vulnerability) ([]enrichedVuln, error) {
	gen, cacheable, err := m.generation(ctx)
	if err != nil {
		return nil, err
	}
	c := &m.ecache
	c.mu.RLock()
	empty := cacheable && c.gen == gen && c.empty
	warm := cacheable && c.gen == gen && c.byVuln != nil
	c.mu.RUnlock()
	if empty {
		return nil, nil
	}
	// A warm cache says the store had records at this generation.
	if p, ok := er.(EnrichmentProber); ok && !warm {
		has, err := p.HasEnrichments(ctx)
		if err != nil {
			return nil, err
		}
		if !has {
			if cacheable {
				c.mu.Lock()
				c.gen, c.byVuln, c.empty = gen, nil, true
				c.mu.Unlock()
			}
			return nil, nil
		}
	}
	out := make([]enrichedVuln, 0, len(vulns))
	var missing []string
	c.mu.RLock()
	current := cacheable && c.gen == gen && c.byVuln != nil
	for id, v := range vulns {
		e, ok := c.byVuln[id]
		switch {
		case !ok || !current:
			missing = append(missing, id)
		case e != none:
			out = append(out, enrichedVuln{id, v, e})
		}
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}

	idsOf := make(map[string][]string, len(missing))
	var all []string
	for _, id := range missing {
		ids := cveIDs(vulns[id])
		idsOf[id] = ids
		all = append(all, ids...)
	}
	byCVE := map[string][]*vuln.Enrichment{}
	if len(all) > 0 {
		slices.Sort(all)
		recs, err := m.readEnrichments(ctx, er, slices.Compact(all))
		if err != nil {
			return nil, err
		}
		// Feed order, so that a report lists EPSS and KEV the same way
		// every time.
		slices.SortFunc(recs, func(a, b *vuln.Enrichment) int { return cmp.Compare(a.Feed, b.Feed) })
		for _, e := range recs {
			id := strings.ToUpper(e.CVE)
			byCVE[id] = append(byCVE[id], e)
		}
	}
	fetched := make(map[string]*enriched, len(missing))
	for _, id := range missing {
		e := &enriched{}
		var best *vuln.CVSS
		for _, cve := range idsOf[id] {
			for _, r := range byCVE[cve] {
				for i := range r.CVSS {
					if best == nil || preferredCVSS(&r.CVSS[i], best) {
						best = &r.CVSS[i]
					}
				}
				if r.EPSS != nil {
					e.epss = append(e.epss, *r.EPSS)
				}
				if r.KEV != nil {
					e.kev = append(e.kev, *r.KEV)
				}
			}
		}
		if best != nil {
			if len(best.Data) > 0 {
				e.cvss = []json.RawMessage{best.Data}
			}
			if e.sev = vuln.SeverityOfCVSS(best.Severity); e.sev != vuln.Unknown {
				e.src = "cvss:" + best.Source + " " + best.Version
			}
		}
		if e.cvss == nil && e.epss == nil && e.kev == nil && e.sev == vuln.Unknown {
			e = none
		} else {
			out = append(out, enrichedVuln{id, vulns[id], e})
		}
		fetched[id] = e
	}
	if cacheable {
		c.mu.Lock()
		if c.gen != gen || c.byVuln == nil || len(c.byVuln) > maxEnrichCached {
			c.gen, c.byVuln, c.empty = gen, make(map[string]*enriched, len(fetched)), false
		}
		for id, e := range fetched {
			c.byVuln[id] = e
		}
		c.mu.Unlock()
	}
	return out, nil
}

// minEnrichRun is the fewest CVEs worth a concurrent read of their own.
const minEnrichRun = 1024

// readEnrichments reads the records of the sorted, distinct cves, a large
// report's in consecutive runs at once (up to GOMAXPROCS, at most 4): the
// 700-package image names 6,600 CVEs, some 13,000 records of CVSS, EPSS
// and KEV data to read and decode.
func (m *Matcher) readEnrichments(ctx context.Context, er EnrichmentReader, cves []string) ([]*vuln.Enrichment, error) {
	return split.Concat(ctx, cves, split.Runs(m.runs, len(cves), minEnrichRun), er.Enrichments)
}
