package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// A view is the store's advisories as they were at another update operation
// of one feed: the current advisories less those the feed added since, plus
// those it removed since (store.UpdateDiff). It serves the matcher
// (match.Store) from memory after the first read of each package.
type view struct {
	base     *base
	drop     map[string]bool                // bare keys of advisories added since
	add      map[[2]string][]*vuln.Advisory // (namespace, package) → removed since
	detailed map[string]*vuln.Advisory      // shared: every advisory the diffs carry, with details
	gen      []store.FeedState              // constant: lets the matcher cache what it compiled
}

// base memoizes the store's current advisories per (namespace, package).
type base struct {
	st Store
	mu sync.Mutex
	m  map[[2]string][]*vuln.Advisory
	dm sync.Mutex
	// detailed is shared by the views; filled before they are used, and
	// with store details (under dm) as the matcher asks.
	detailed map[string]*vuln.Advisory
}

// newView returns the view of the store at operation from, the feed's
// current operation being head.
func newView(ctx context.Context, st Store, from, head string, b *base) (*view, error) {
	v := &view{base: b, drop: map[string]bool{}, add: map[[2]string][]*vuln.Advisory{},
		detailed: b.detailed, gen: []store.FeedState{{Feed: "notify-view:" + from}}}
	if from == head {
		return v, nil
	}
	d, err := st.UpdateDiff(ctx, from, head)
	if err != nil {
		return nil, fmt.Errorf("notify: view at %s: %w", from, err)
	}
	for _, a := range d.Added {
		k := bareKey(a)
		v.drop[k] = true
		b.detailed[k] = a
	}
	for _, a := range d.Removed {
		k := [2]string{a.Namespace, a.Package}
		v.add[k] = append(v.add[k], a)
		b.detailed[bareKey(a)] = a
	}
	return v, nil
}

// bareKey identifies an advisory by everything but its details, which the
// store's Advisories leaves out.
func bareKey(a *vuln.Advisory) string {
	cp := *a
	cp.Description, cp.Links, cp.Issued, cp.Aliases = "", nil, time.Time{}, nil
	b, _ := json.Marshal(&cp)
	return string(b)
}

// PackageNames implements match.PackageNamer, from the store as it is now:
// the matcher gives a Maven artifact found without a group the one group
// the advisories publish it under. (Both views read today's names: an
// update that gives an artifact its first or a second group is seen by
// its later evaluations only.)
func (v *view) PackageNames(ctx context.Context, ns string) ([]string, error) {
	if pn, ok := v.base.st.(match.PackageNamer); ok {
		return pn.PackageNames(ctx, ns)
	}
	return nil, nil
}

// FeedStates implements match.Generationer.
func (v *view) FeedStates(context.Context) ([]store.FeedState, error) { return v.gen, nil }

// Advisories implements match.Store.
func (v *view) Advisories(ctx context.Context, ns string, pkgs []string) ([]*vuln.Advisory, error) {
	cur, err := v.base.advisories(ctx, ns, pkgs)
	if err != nil {
		return nil, err
	}
	var out []*vuln.Advisory
	for _, a := range cur {
		if !v.drop[bareKey(a)] {
			out = append(out, a)
		}
	}
	for _, p := range pkgs {
		for _, a := range v.add[[2]string{ns, p}] {
			cp := *a
			cp.Description, cp.Links, cp.Aliases = "", nil, nil
			cp.Issued = time.Time{}
			out = append(out, &cp)
		}
	}
	return out, nil
}

// Details implements match.Store: from the diffs where they carry the
// advisory, from the store for the rest (an advisory unchanged by the
// update can enter a report when an override of it left).
func (v *view) Details(ctx context.Context, advs []*vuln.Advisory) error {
	var rest []*vuln.Advisory
	v.base.dm.Lock()
	for _, a := range advs {
		if d, ok := v.detailed[bareKey(a)]; ok {
			a.Description, a.Links, a.Issued, a.Aliases = d.Description, d.Links, d.Issued, d.Aliases
		} else {
			rest = append(rest, a)
		}
	}
	v.base.dm.Unlock()
	if len(rest) == 0 {
		return nil
	}
	return v.base.st.Details(ctx, rest)
}

func (b *base) advisories(ctx context.Context, ns string, pkgs []string) ([]*vuln.Advisory, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var missing []string
	for _, p := range pkgs {
		if _, ok := b.m[[2]string{ns, p}]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		as, err := b.st.Advisories(ctx, ns, missing)
		if err != nil {
			return nil, err
		}
		for _, p := range missing {
			b.m[[2]string{ns, p}] = nil
		}
		for _, a := range as {
			k := [2]string{ns, a.Package}
			b.m[k] = append(b.m[k], a)
		}
	}
	var out []*vuln.Advisory
	for _, p := range pkgs {
		out = append(out, b.m[[2]string{ns, p}]...)
	}
	return out, nil
}

// notificationID is stable: the same change computed twice (by two
// instances) has the same id.
func notificationID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	s := hex.EncodeToString(h.Sum(nil)[:16])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
