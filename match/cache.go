package match

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// Generationer is implemented by stores that can say cheaply whether any
// feed changed: the matcher then keeps the advisories it has read, with
// their versions parsed and their details attached, until a snapshot is
// replaced. Matching a warm image is then map look-ups and comparisons.
type Generationer interface {
	FeedStates(ctx context.Context) ([]store.FeedState, error)
}

// maxCached bounds the cache (in advisories): past it, the cache starts over.
const maxCached = 500_000

type pkgKey struct{ ns, pkg string }

// compiled is an advisory with its bounds parsed and, once described, the
// report entry it yields, which carries its report id (computed then: most
// advisories read never match).
type compiled struct {
	adv      *vuln.Advisory
	scheme   version.Scheme
	versions []version.Version
	ranges   []cRange
	template atomic.Pointer[vuln.Vulnerability]
}

type cRange struct {
	intro, fixed, last version.Version
	bad                bool // a bound the scheme cannot parse: the range is skipped
}

type cache struct {
	mu   sync.RWMutex
	gen  string
	n    int
	advs map[pkgKey][]*compiled // by the image's namespace and package name
}

func compile(a *vuln.Advisory) *compiled { return compileWith(a, nil) }

// versionMemo keeps the versions parsed while compiling one batch of
// advisories: a feed repeats the same fixed version across the CVEs one
// upload fixes, and parsed versions are immutable values, safe to share.
type versionMemo map[memoKey]memoVersion

type memoKey struct{ format, s string }

type memoVersion struct {
	v   version.Version
	err bool
}

// compileWith is compile parsing through memo (nil: no memo).
func compileWith(a *vuln.Advisory, memo versionMemo) *compiled {
	c := &compiled{adv: a}
	s, ok := version.Lookup(a.VersionFormat)
	if !ok {
		return c
	}
	c.scheme = s
	parseOne := func(v string) (version.Version, bool) {
		if memo == nil {
			pv, err := s.Parse(v)
			return pv, err == nil
		}
		k := memoKey{a.VersionFormat, v}
		if m, ok := memo[k]; ok {
			return m.v, !m.err
		}
		pv, err := s.Parse(v)
		if err != nil {
			pv = nil
		}
		memo[k] = memoVersion{pv, err != nil}
		return pv, err == nil
	}
	for _, v := range a.Versions {
		if pv, ok := parseOne(v); ok {
			c.versions = append(c.versions, pv)
		}
	}
	parse := func(v string, bad *bool, zeroIsNone bool) version.Version {
		if v == "" || (zeroIsNone && v == "0") {
			return nil
		}
		pv, ok := parseOne(v)
		if !ok {
			*bad = true
			return nil
		}
		return pv
	}
	if len(a.Ranges) > 0 {
		c.ranges = make([]cRange, len(a.Ranges))
	}
	for i, r := range a.Ranges {
		cr := &c.ranges[i]
		cr.intro = parse(r.Introduced, &cr.bad, true) // OSV's "0": from the start
		cr.fixed = parse(r.Fixed, &cr.bad, false)
		cr.last = parse(r.LastAffected, &cr.bad, false)
	}
	return c
}

// affects reports whether installed falls under the advisory.
func (c *compiled) affects(installed version.Version) bool {
	ok, _ := c.affectsIn(installed)
	return ok
}

// affectsIn also says which range installed falls in (-1: through the
// explicit version list, or an advisory without ranges), so that the report
// can give the fix of that range: an advisory with several ranges (OSV's
// per-branch fixes) has a fix per branch, and the lowest is not the one a
// later branch needs.
func (c *compiled) affectsIn(installed version.Version) (bool, int) {
	a := c.adv
	switch a.State {
	case vuln.StateAffected, vuln.StateUnfixed, vuln.StateWontFix:
	default:
		return false, -1
	}
	if len(a.Ranges) == 0 {
		for _, v := range c.versions {
			if v.Compare(installed) == 0 {
				return true, -1
			}
		}
		// Unfixed or will-not-fix without bounds covers every version; an
		// affected statement without ranges is only its explicit list.
		return a.State != vuln.StateAffected || (len(a.Versions) == 0 && a.FixedIn == ""), -1
	}
	for i, r := range c.ranges {
		if r.bad {
			continue
		}
		if r.intro != nil && installed.Compare(r.intro) < 0 {
			continue
		}
		switch {
		case r.fixed != nil:
			if installed.Compare(r.fixed) < 0 {
				return true, i
			}
		case r.last != nil:
			if installed.Compare(r.last) <= 0 {
				return true, i
			}
		default:
			return true, i
		}
	}
	for _, v := range c.versions {
		if v.Compare(installed) == 0 {
			return true, -1
		}
	}
	return false, -1
}

// lookup returns, for each name, the advisories that may apply to it in an
// image of namespace ns (the namespace's own and those complementing it,
// "not affected" and less authoritative statements already resolved),
// from the cache where it is current and from the store for the rest.
func (m *Matcher) lookup(ctx context.Context, ns string, names []string) (map[string][]*compiled, error) {
	c := &m.cache
	gen, cacheable, err := m.generation(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*compiled, len(names))
	missing := names
	if cacheable {
		missing = nil
		c.mu.RLock()
		current := c.gen == gen && c.advs != nil
		for _, n := range names {
			if cs, ok := c.advs[pkgKey{ns, n}]; ok && current {
				out[n] = cs
			} else {
				missing = append(missing, n)
			}
		}
		c.mu.RUnlock()
	}
	if len(missing) == 0 {
		return out, nil
	}

	var advs []*vuln.Advisory
	for _, q := range namespaces(ns) {
		as, err := m.Store.Advisories(ctx, q, missing)
		if err != nil {
			return nil, err
		}
		advs = append(advs, as...)
	}
	byPkg := map[string][]*vuln.Advisory{}
	for _, a := range advs {
		byPkg[a.Package] = append(byPkg[a.Package], a)
	}
	fetched := make(map[string][]*compiled, len(missing))
	memo := versionMemo{}
	for _, n := range missing {
		var cs []*compiled
		for _, a := range notOverridden(preferred(byPkg[n], ns)) {
			if a.State != vuln.StateNotAffected {
				cs = append(cs, compileWith(a, memo))
			}
		}
		fetched[n] = cs
		out[n] = cs
	}
	if cacheable {
		c.mu.Lock()
		if c.gen != gen || c.advs == nil || c.n > maxCached {
			c.gen, c.n, c.advs = gen, 0, map[pkgKey][]*compiled{}
		}
		for n, cs := range fetched {
			if _, ok := c.advs[pkgKey{ns, n}]; !ok {
				c.advs[pkgKey{ns, n}] = cs
				c.n += len(cs) + 1
			}
		}
		c.mu.Unlock()
	}
	return out, nil
}

// describe makes sure every hit's advisory has its report entry, reading
// the details of those that have none yet in one store call. Cached
// advisories are shared: details go into a copy, published atomically.
func (m *Matcher) describe(ctx context.Context, hits []hit) error {
	var todo []*compiled
	var seen map[*compiled]bool
	for _, h := range hits {
		if h.adv.template.Load() != nil || seen[h.adv] {
			continue
		}
		if seen == nil {
			seen = make(map[*compiled]bool, len(hits))
		}
		seen[h.adv] = true
		todo = append(todo, h.adv)
	}
	if len(todo) == 0 {
		return nil
	}
	// A cold report describes thousands of advisories: their copies, and
	// the templates with their packages, come from one slice each rather
	// than an allocation apiece.
	copies := make([]*vuln.Advisory, len(todo))
	advs := make([]vuln.Advisory, len(todo))
	for i, c := range todo {
		advs[i] = *c.adv
		copies[i] = &advs[i]
	}
	if err := m.details(ctx, copies); err != nil {
		return err
	}
	tpls := make([]vuln.Vulnerability, len(todo))
	// A package has tens of advisories (hundreds, for the kernel): the
	// templates of one share its read-only entry.
	var pkgs []vuln.Package
	byName := map[string]*vuln.Package{}
	for i, c := range todo {
		a := copies[i]
		p := byName[a.Package]
		if p == nil {
			if len(pkgs) == cap(pkgs) {
				pkgs = make([]vuln.Package, 0, min(len(todo)-i, 256))
			}
			pkgs = append(pkgs, vuln.Package{Name: a.Package, Kind: vuln.KindSource})
			p = &pkgs[len(pkgs)-1]
			byName[a.Package] = p
		}
		fillTemplate(&tpls[i], p, a, vulnID(c.adv))
		c.template.CompareAndSwap(nil, &tpls[i])
	}
	return nil
}

// details fills advs' details, all of them or, for a Brief matcher, all
// but Description and Links.
func (m *Matcher) details(ctx context.Context, advs []*vuln.Advisory) error {
	if !m.Brief {
		return m.Store.Details(ctx, advs)
	}
	if bs, ok := m.Store.(BriefStore); ok {
		return bs.BriefDetails(ctx, advs)
	}
	if err := m.Store.Details(ctx, advs); err != nil {
		return err
	}
	for _, a := range advs {
		a.Description, a.Links = "", nil
	}
	return nil
}

// generation names the feeds' current snapshots for the caches: from ctx
// when the caller read the states for this match already (MatchStates),
// from the store otherwise. cacheable is false for a store that cannot
// say.
func (m *Matcher) generation(ctx context.Context) (gen string, cacheable bool, err error) {
	if g, ok := ctx.Value(generationKey{}).(string); ok {
		return g, true, nil
	}
	g, ok := m.Store.(Generationer)
	if !ok {
		return "", false, nil
	}
	states, err := g.FeedStates(ctx)
	if err != nil {
		return "", false, err
	}
	return store.Generation(states), true, nil
}

// generationKey carries, within one Match, the feed generation read once
// for all its namespaces (see MatchStates).
type generationKey struct{}
