// Package match joins an IndexReport with today's advisories into a
// VulnerabilityReport. It is a pure function of the two, cheap enough to run
// on every request, so an image is never rescanned when the data changes.
package match

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/openclair/clair/internal/pep503"
	"github.com/openclair/clair/internal/split"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// Store is the subset of store.Store the matcher reads.
type Store interface {
	Advisories(ctx context.Context, namespace string, packages []string) ([]*vuln.Advisory, error)
	Details(ctx context.Context, advs []*vuln.Advisory) error
}

// BriefStore is a Store that can fill an advisory's details but its
// Description and Links, for less than Details costs.
type BriefStore interface {
	BriefDetails(ctx context.Context, advs []*vuln.Advisory) error
}

// Matcher computes vulnerability reports. It is safe for concurrent use.
type Matcher struct {
	Store Store
	// Brief leaves each vulnerability's description and links out of the
	// reports, for outputs that show neither (clairctl's table): a large
	// image's descriptions are megabytes to read. It holds for the
	// Matcher's life, as its cache does.
	Brief bool
	cache cache

	// Logger receives the warnings of a match (a Maven artifact found
	// without a group that several groups publish); nil: slog.Default().
	Logger *slog.Logger
	groups groupIndex
	ecache enrichCache
	// runs bounds the concurrent runs of matchNamespace; 0: GOMAXPROCS,
	// at most 4. Tests set it to compare split and whole matches.
	runs int
}

// ecosystemFormat is the version format of the advisories that may apply
// to a package of ecosystem eco (a dpkg package is never compared with an
// apk advisory even if names collide); ok is false for an ecosystem nobody
// registered (see vuln.RegisterEcosystem).
func ecosystemFormat(eco string) (format string, ok bool) {
	e, ok := vuln.LookupEcosystem(eco)
	return e.VersionFormat, ok
}

// feedName is the name a feed keys a package on: PyPI names compare after
// PEP 503 normalization ("Flask_SQLAlchemy" is "flask-sqlalchemy"), the
// same function feed/osv keys advisories with.
func feedName(eco, name string) string {
	if eco != vuln.EcosystemPyPI {
		return name
	}
	return pep503.Normalize(name)
}

// candidate is one package to match, with the keys the feeds use.
type candidate struct {
	id   string
	pkg  *vuln.Package
	dist *vuln.Distribution
	name string // name the feed keys on (source / origin)
	ver  string // version the feed's ranges are in (source version)
	// repos are the package's repository CPEs (qualify.go); bySource marks
	// an rpm package looked up under its source rpm's name.
	repos    []string
	bySource bool
}

type hit struct {
	adv *compiled
	c   *candidate
	rng int // the range the version fell in, -1 for none (see affectsIn)
}

// fixedIn is the fix of the range the hit fell in, when the advisory has
// several ranges; ok is false when the advisory's own FixedIn stands.
func (h hit) fixedIn() (fixed string, ok bool) {
	a := h.adv.adv
	if h.rng < 0 || len(a.Ranges) < 2 {
		return "", false
	}
	return a.Ranges[h.rng].Fixed, true
}

// MatchStates is Match with the feeds' states the caller has already read
// (for its own cache key): the matcher's cache keys on the same
// generation, so the store is not asked again for each namespace.
func (m *Matcher) MatchStates(ctx context.Context, ir *vuln.IndexReport, states []store.FeedState) (*vuln.VulnerabilityReport, error) {
	if _, ok := m.Store.(Generationer); ok && states != nil {
		ctx = context.WithValue(ctx, generationKey{}, store.Generation(states))
	}
	return m.Match(ctx, ir)
}

// Match computes the vulnerability report of ir.
func (m *Matcher) Match(ctx context.Context, ir *vuln.IndexReport) (*vuln.VulnerabilityReport, error) {
	if _, ok := ctx.Value(generationKey{}).(string); !ok {
		if g, ok := m.Store.(Generationer); ok {
			// Once for every namespace of the report.
			states, err := g.FeedStates(ctx)
			if err != nil {
				return nil, fmt.Errorf("match: %w", err)
			}
			ctx = context.WithValue(ctx, generationKey{}, store.Generation(states))
		}
	}
	vr := &vuln.VulnerabilityReport{
		ManifestHash:           ir.ManifestHash,
		Packages:               orEmpty(ir.Packages),
		Distributions:          orEmpty(ir.Distributions),
		Repositories:           orEmpty(ir.Repositories),
		Environments:           orEmpty(ir.Environments),
		Vulnerabilities:        map[string]*vuln.Vulnerability{},
		PackageVulnerabilities: map[string][]string{},
		Enrichments:            map[string][]any{},
	}

	csCPEs, err := m.contentSetCPEs(ctx, ir)
	if err != nil {
		return nil, fmt.Errorf("match: content set CPEs: %w", err)
	}
	byNS := map[string][]*candidate{}
	for id, p := range ir.Packages {
		if _, ok := ecosystemFormat(p.Ecosystem); !ok {
			continue
		}
		if vuln.IsLanguage(p.Ecosystem) {
			byNS[p.Ecosystem] = append(byNS[p.Ecosystem], &candidate{id: id, pkg: p, name: feedName(p.Ecosystem, p.Name), ver: p.Version})
			continue
		}
		d := distributionOf(ir, id)
		ns := vuln.Namespace(d)
		if ns == "" {
			continue
		}
		byNS[ns] = append(byNS[ns], distCandidates(ir, id, p, d, ns, csCPEs)...)
	}

	if err := m.recoverGroups(ctx, byNS[vuln.EcosystemMaven], vr); err != nil {
		return nil, err
	}
	var hits []hit
	for _, ns := range sortedKeys(byNS) {
		if hits, err = m.matchNamespace(ctx, ns, byNS[ns], hits); err != nil {
			return nil, err
		}
	}
	hits = dedupeHits(hits)
	if len(hits) == 0 {
		return vr, nil
	}

	perPkg := make(map[string][]*vuln.Vulnerability, len(ir.Packages))
	vr.Vulnerabilities = make(map[string]*vuln.Vulnerability, len(hits))
	// The report's entries, from slices of a few hundred rather than an
	// allocation each: they live exactly as long as the report.
	var slab []vuln.Vulnerability
	for _, h := range hits {
		tpl := h.adv.template.Load()
		id := tpl.ID
		fixed, own := h.fixedIn()
		if own && fixed != h.adv.adv.FixedIn {
			// Another branch's fix: its own entry, so that packages on
			// different branches each read the fix they need.
			id += "-" + shortHash(fixed)
		}
		v, ok := vr.Vulnerabilities[id]
		if !ok {
			if len(slab) == cap(slab) {
				slab = make([]vuln.Vulnerability, 0, min(len(hits), 512))
			}
			slab = append(slab, *tpl)
			v = &slab[len(slab)-1]
			v.Distribution = h.c.dist
			if id != tpl.ID {
				v.ID, v.FixedInVersion = id, fixed
				if fixed == "" && v.State == string(vuln.StateAffected) {
					v.State = string(vuln.StateUnfixed) // an open branch
				}
			}
			vr.Vulnerabilities[v.ID] = v
		}
		perPkg[h.c.id] = append(perPkg[h.c.id], v)
	}
	// Before the per-package order below, which is by severity: a
	// severity may come from CVSS here.
	if err := m.enrich(ctx, vr); err != nil {
		return nil, err
	}
	for id, vs := range perPkg {
		slices.SortFunc(vs, func(a, b *vuln.Vulnerability) int {
			if c := cmp.Compare(b.NormalizedSeverity, a.NormalizedSeverity); c != 0 {
				return c
			}
			// Not cmp.Or: the ids are compared only between equal names.
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		vs = slices.CompactFunc(vs, func(a, b *vuln.Vulnerability) bool { return a.ID == b.ID })
		ids := make([]string, len(vs))
		for i, v := range vs {
			ids[i] = v.ID
		}
		vr.PackageVulnerabilities[id] = ids
	}
	return vr, nil
}

// minRun is the fewest package names worth a concurrent run of
// matchNames.
const minRun = 96

// matchNamespace compares the candidates of one namespace with its
// advisories, appending what affects them, described, to hits. A large
// image's names are cut into runs matched at once, up to GOMAXPROCS (at
// most 4): each run's reading, parsing, comparing and describing is its
// own (an advisory belongs to one name), and for the 700-package image
// that CPU work, done one step after another, was a third of a report.
func (m *Matcher) matchNamespace(ctx context.Context, ns string, cands []*candidate, hits []hit) ([]hit, error) {
	names := make([]string, 0, len(cands))
	for _, c := range cands {
		names = append(names, c.name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	byName := make(map[string][]*candidate, len(names))
	for _, c := range cands {
		byName[c.name] = append(byName[c.name], c)
	}
	h, err := split.Concat(ctx, names, split.Runs(m.runs, len(names), minRun), func(ctx context.Context, run []string) ([]hit, error) {
		var rc []*candidate
		for _, name := range run {
			rc = append(rc, byName[name]...)
		}
		return m.matchNames(ctx, ns, run, rc)
	})
	return append(hits, h...), err
}

// matchNames compares the candidates, whose names are among names (sorted,
// distinct), with their advisories, and describes those that affect them.
func (m *Matcher) matchNames(ctx context.Context, ns string, names []string, cands []*candidate) ([]hit, error) {
	byPkg, err := m.lookup(ctx, ns, names)
	if err != nil {
		return nil, fmt.Errorf("match: %s: %w", ns, err)
	}
	var hits []hit
	for _, c := range cands {
		as := byPkg[c.name]
		if len(as) == 0 {
			continue
		}
		format, _ := ecosystemFormat(c.pkg.Ecosystem)
		scheme, ok := version.Lookup(format)
		if !ok {
			return nil, fmt.Errorf("match: no version scheme %q registered", format)
		}
		installed, err := scheme.Parse(c.ver)
		if err != nil {
			// An unparseable installed version cannot be placed in any
			// range; the package is skipped rather than guessed at.
			continue
		}
		for _, a := range as {
			if a.adv.VersionFormat != format || a.scheme == nil || !qualifies(a.adv, c) {
				continue
			}
			if ok, rng := a.affectsIn(installed); ok {
				hits = append(hits, hit{a, c, rng})
			}
		}
	}
	// Before dedupeHits, which drops few: each run describes its own.
	if err := m.describe(ctx, hits); err != nil {
		return nil, fmt.Errorf("match: details: %w", err)
	}
	return hits, nil
}

// namespaces lists the namespaces whose advisories apply to an image of
// namespace ns, most authoritative first. Ubuntu publishes a release's
// Pro (ESM) statements under a separate ecosystem; once a release leaves
// standard support its fixes are published only there, and an image without
// Pro still carries the vulnerable versions, so they are reported too.
func namespaces(ns string) []string {
	if rel, ok := strings.CutPrefix(ns, "ubuntu:"); ok {
		return []string{ns, "ubuntu-pro:" + rel}
	}
	return []string{ns}
}

// preferred keeps, for each (feed, vulnerability, package), the statements of
// the most authoritative namespace that has any: a standard Ubuntu statement
// wins over a Pro one for the same CVE and package.
func preferred(advs []*vuln.Advisory, ns string) []*vuln.Advisory {
	// Only Ubuntu images read a second namespace: elsewhere every
	// statement is the image namespace's own and all of them stand.
	if !slices.ContainsFunc(advs, func(a *vuln.Advisory) bool { return a.Namespace != ns }) {
		return advs
	}
	type key struct{ feed, name, pkg string }
	best := map[key]string{}
	for _, a := range advs {
		k := key{a.Feed, a.Name, a.Package}
		if cur, ok := best[k]; !ok || (a.Namespace == ns && cur != ns) {
			best[k] = a.Namespace
		}
	}
	out := advs[:0:0]
	for _, a := range advs {
		if best[key{a.Feed, a.Name, a.Package}] == a.Namespace {
			out = append(out, a)
		}
	}
	return out
}

// notOverridden drops advisories that an explicit "not affected" statement of
// the same feed for the same vulnerability cancels.
func notOverridden(as []*vuln.Advisory) []*vuln.Advisory {
	var na map[[2]string]bool
	for _, a := range as {
		if a.State == vuln.StateNotAffected {
			if na == nil {
				na = map[[2]string]bool{}
			}
			na[[2]string{a.Feed, a.Name}] = true
		}
	}
	if na == nil {
		return as
	}
	out := make([]*vuln.Advisory, 0, len(as))
	for _, a := range as {
		if !na[[2]string{a.Feed, a.Name}] {
			out = append(out, a)
		}
	}
	return out
}

// Affected reports whether the installed version falls under the advisory,
// in the advisory's version scheme. Versions the scheme cannot parse in the
// advisory make that bound unusable: the range is skipped rather than guessed.
func Affected(installed version.Version, a *vuln.Advisory) bool {
	c := compile(a)
	return c.scheme != nil && c.affects(installed)
}

// fillTemplate makes v the report entry of a detailed advisory, with p (the
// advisory's source package, shared between templates) as its package; the
// distribution is the report's own and is set per report.
func fillTemplate(v *vuln.Vulnerability, p *vuln.Package, a *vuln.Advisory, id string) {
	state := "affected"
	if a.State != vuln.StateAffected {
		state = string(a.State)
	}
	*v = vuln.Vulnerability{
		ID:                 id,
		Updater:            a.Feed,
		Name:               a.Name,
		Description:        a.Description,
		Issued:             a.Issued,
		Links:              strings.Join(a.Links, " "),
		Severity:           a.Severity,
		NormalizedSeverity: a.NormalizedSeverity,
		Package:            p,
		FixedInVersion:     a.FixedIn,
		State:              state,
		Aliases:            a.Aliases,
	}
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// vulnID is stable across runs so that reports diff cleanly and a
// vulnerability shared by several binaries of one source is one entry.
// Clients store these ids: the hashed bytes and the 16 hex digits must not
// change. It runs once per advisory a report shows, so the fields go
// through one stack buffer and one hash call rather than a hash.Hash.
func vulnID(a *vuln.Advisory) string {
	var buf [256]byte
	b := buf[:0]
	for _, s := range [...]string{a.Feed, a.Namespace, a.Package, a.Name, a.FixedIn, string(a.State)} {
		b = append(b, s...)
		b = append(b, 0)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// distributionOf finds the distribution a package was found under: its
// environment's, or the image's only one.
func distributionOf(ir *vuln.IndexReport, pkgID string) *vuln.Distribution {
	for _, env := range ir.Environments[pkgID] {
		if d, ok := ir.Distributions[env.DistributionID]; ok {
			return d
		}
	}
	if len(ir.Distributions) == 1 {
		for _, d := range ir.Distributions {
			return d
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
