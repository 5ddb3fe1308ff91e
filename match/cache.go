package match

import (
	"context"
	"strings"
	"sync"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// Generationer is implemented by stores that can say cheaply whether any
// feed changed: the matcher then keeps advisories it has read, with their
// versions parsed, until a snapshot is replaced. Matching a warm image is
// then a few map look-ups and comparisons per package.
type Generationer interface {
	FeedStates(ctx context.Context) ([]store.FeedState, error)
}

// maxCached bounds the cache: past it, the cache starts over.
const maxCached = 500_000

type pkgKey struct{ ns, pkg string }

type detailKey struct{ feed, name string }

// compiled is an advisory with its bounds parsed once.
type compiled struct {
	adv      *vuln.Advisory
	scheme   version.Scheme
	versions []version.Version
	ranges   []cRange
}

type cRange struct {
	intro, fixed, last version.Version
	bad                bool // a bound the scheme cannot parse: the range is skipped
}

type cache struct {
	mu      sync.RWMutex
	gen     string
	n       int
	advs    map[pkgKey][]*compiled
	details map[detailKey]*vuln.Advisory
}

func (c *cache) resetLocked(gen string) {
	c.gen = gen
	c.n = 0
	c.advs = map[pkgKey][]*compiled{}
	c.details = map[detailKey]*vuln.Advisory{}
}

func generation(states []store.FeedState) string {
	var b strings.Builder
	for _, s := range states {
		b.WriteString(s.Feed)
		b.WriteByte(0)
		b.WriteString(s.Operation)
		b.WriteByte(0)
	}
	return b.String()
}

func compile(a *vuln.Advisory) *compiled {
	c := &compiled{adv: a}
	s, ok := version.Lookup(a.VersionFormat)
	if !ok {
		return c
	}
	c.scheme = s
	for _, v := range a.Versions {
		if pv, err := s.Parse(v); err == nil {
			c.versions = append(c.versions, pv)
		}
	}
	parse := func(v string, bad *bool, zeroIsNone bool) version.Version {
		if v == "" || (zeroIsNone && v == "0") {
			return nil
		}
		pv, err := s.Parse(v)
		if err != nil {
			*bad = true
			return nil
		}
		return pv
	}
	for _, r := range a.Ranges {
		var cr cRange
		cr.intro = parse(r.Introduced, &cr.bad, true) // OSV's "0": from the start
		cr.fixed = parse(r.Fixed, &cr.bad, false)
		cr.last = parse(r.LastAffected, &cr.bad, false)
		c.ranges = append(c.ranges, cr)
	}
	return c
}

// affects is Affected on parsed bounds.
func (c *compiled) affects(installed version.Version) bool {
	a := c.adv
	switch a.State {
	case vuln.StateAffected, vuln.StateUnfixed, vuln.StateWontFix:
	default:
		return false
	}
	for _, v := range c.versions {
		if v.Compare(installed) == 0 {
			return true
		}
	}
	if len(a.Ranges) == 0 {
		return a.State != vuln.StateAffected || (len(a.Versions) == 0 && a.FixedIn == "")
	}
	for _, r := range c.ranges {
		if r.bad {
			continue
		}
		if r.intro != nil && installed.Compare(r.intro) < 0 {
			continue
		}
		switch {
		case r.fixed != nil:
			if installed.Compare(r.fixed) < 0 {
				return true
			}
		case r.last != nil:
			if installed.Compare(r.last) <= 0 {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// lookup returns, for each name, the advisories of namespace ns (and of the
// namespaces that complement it) that may apply, compiled; from the cache
// where it is current, from the store for the rest.
func (m *Matcher) lookup(ctx context.Context, ns string, names []string) (map[string][]*compiled, error) {
	c := &m.cache
	gen := ""
	cacheable := false
	if g, ok := m.Store.(Generationer); ok {
		states, err := g.FeedStates(ctx)
		if err != nil {
			return nil, err
		}
		gen, cacheable = generation(states), true
	}
	qs := namespaces(ns)
	out := make(map[string][]*compiled, len(names))
	if cacheable {
		c.mu.RLock()
		if c.gen == gen && c.advs != nil {
			missing := false
			for _, n := range names {
				for _, q := range qs {
					if _, ok := c.advs[pkgKey{q, n}]; !ok {
						missing = true
						break
					}
				}
				if missing {
					break
				}
			}
			if !missing {
				for _, n := range names {
					for _, q := range qs {
						out[n] = append(out[n], c.advs[pkgKey{q, n}]...)
					}
				}
				c.mu.RUnlock()
				return preferredCompiled(out, ns), nil
			}
		}
		c.mu.RUnlock()
	}

	fetched := map[pkgKey][]*compiled{}
	for _, q := range qs {
		advs, err := m.Store.Advisories(ctx, q, names)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			fetched[pkgKey{q, n}] = nil
		}
		for _, a := range advs {
			k := pkgKey{q, a.Package}
			fetched[k] = append(fetched[k], compile(a))
		}
	}
	for k, v := range fetched {
		out[k.pkg] = append(out[k.pkg], v...)
	}
	if cacheable {
		c.mu.Lock()
		if c.gen != gen || c.advs == nil || c.n > maxCached {
			c.resetLocked(gen)
		}
		for k, v := range fetched {
			if _, ok := c.advs[k]; !ok {
				c.advs[k] = v
				c.n += len(v) + 1
			}
		}
		c.mu.Unlock()
	}
	return preferredCompiled(out, ns), nil
}

func preferredCompiled(in map[string][]*compiled, ns string) map[string][]*compiled {
	for name, cs := range in {
		advs := make([]*vuln.Advisory, len(cs))
		for i, c := range cs {
			advs[i] = c.adv
		}
		keep := map[*vuln.Advisory]bool{}
		for _, a := range notOverridden(preferred(advs, ns)) {
			keep[a] = true
		}
		if len(keep) == len(cs) {
			continue
		}
		out := make([]*compiled, 0, len(keep))
		for _, c := range cs {
			if keep[c.adv] {
				out = append(out, c)
			}
		}
		in[name] = out
	}
	return in
}

// details returns the advisories with Description, Links, Issued and Aliases
// filled, as copies: cached advisories are shared and never written.
func (m *Matcher) details(ctx context.Context, advs []*vuln.Advisory) (map[*vuln.Advisory]*vuln.Advisory, error) {
	c := &m.cache
	out := make(map[*vuln.Advisory]*vuln.Advisory, len(advs))
	var missing []*vuln.Advisory
	c.mu.RLock()
	for _, a := range advs {
		if d, ok := c.details[detailKey{a.Feed, a.Name}]; ok && c.details != nil {
			cp := *a
			cp.Description, cp.Links, cp.Issued, cp.Aliases = d.Description, d.Links, d.Issued, d.Aliases
			out[a] = &cp
			continue
		}
		cp := *a
		out[a] = &cp
		missing = append(missing, &cp)
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	if err := m.Store.Details(ctx, missing); err != nil {
		return nil, err
	}
	if _, ok := m.Store.(Generationer); ok {
		c.mu.Lock()
		if c.details != nil {
			for _, a := range missing {
				c.details[detailKey{a.Feed, a.Name}] = a
				c.n++
			}
		}
		c.mu.Unlock()
	}
	return out, nil
}
