package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// Compute returns the notifications of update operation cur of a feed,
// whose previous operation is prev: every (manifest, vulnerability) that the
// manifest's vulnerability report gains ("added") or loses ("removed")
// because cur replaced prev's snapshot. prev "" (a feed's first snapshot)
// notifies nothing: a first boot must not page anyone about everything.
//
// The reports compared are exact: "before" is the matcher's answer with the
// feed at prev's snapshot, "after" with it at cur's, every other feed as it
// is now. Both views are the store's current advisories with the snapshot
// diffs from prev (and from cur) to the feed's current operation undone, so
// Compute is right for an operation that later ones already replaced.
// Only the manifests the store's index has under the keys of the changed
// advisories are evaluated, and only their fragments for those keys.
//
// With summary, each manifest gets one notification: its most severe added
// vulnerability, or when it gained none, its most severe removed one
// (Clair's default; disable_summary turns it off).
func Compute(ctx context.Context, st Store, prev, cur string, summary bool) ([]Notification, error) {
	if prev == "" {
		return nil, nil
	}
	own, err := st.UpdateDiff(ctx, prev, cur)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	feed := own.Cur.Feed
	head, err := feedHead(ctx, st, feed)
	if err != nil {
		return nil, err
	}
	b := &base{st: st, m: map[[2]string][]*vuln.Advisory{}, detailed: map[string]*vuln.Advisory{}}
	for _, a := range own.Added {
		b.detailed[bareKey(a)] = a
	}
	for _, a := range own.Removed {
		b.detailed[bareKey(a)] = a
	}
	before, err := newView(ctx, st, prev, head, b)
	if err != nil {
		return nil, err
	}
	after, err := newView(ctx, st, cur, head, b)
	if err != nil {
		return nil, err
	}

	keys := changedKeys(own)
	if len(keys) == 0 {
		return nil, nil
	}
	mb := &match.Matcher{Store: before}
	ma := &match.Matcher{Store: after}

	// The index streams fragments in manifest order; each manifest is
	// evaluated by a worker as soon as its last fragment is read, so
	// memory holds the manifests in flight, not every candidate.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		manifest string
		raw      [][]byte
	}
	jobs := make(chan job, 64)
	var (
		mu   sync.Mutex
		out  []Notification
		ferr error
	)
	fail := func(err error) {
		mu.Lock()
		if ferr == nil {
			ferr = err
		}
		mu.Unlock()
		cancel()
	}
	cache := &diffCache{m: map[string]diff{}}
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ns, err := evaluateManifest(ctx, mb, ma, cache, j.manifest, j.raw, cur, summary)
				if err != nil {
					fail(fmt.Errorf("notify: %s: %w", j.manifest, err))
					return
				}
				if len(ns) > 0 {
					mu.Lock()
					out = append(out, ns...)
					mu.Unlock()
				}
			}
		}()
	}
	var pending job
	send := func() error {
		if pending.manifest == "" {
			return nil
		}
		select {
		case jobs <- pending:
		case <-ctx.Done():
			return ctx.Err()
		}
		pending = job{}
		return nil
	}
	err = st.ManifestFragments(ctx, keys, func(_ match.Key, m string, b []byte) error {
		if m != pending.manifest {
			if err := send(); err != nil {
				return err
			}
			pending.manifest = m
		}
		pending.raw = append(pending.raw, slices.Clone(b))
		return nil
	})
	if err == nil {
		err = send()
	}
	close(jobs)
	wg.Wait()
	if ferr != nil {
		return nil, ferr
	}
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	slices.SortFunc(out, func(a, b Notification) int {
		return cmp.Or(cmp.Compare(a.Manifest, b.Manifest), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Vulnerability.Name, b.Vulnerability.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// feedHead is the operation that wrote the feed's current snapshot.
func feedHead(ctx context.Context, st Store, feed string) (string, error) {
	states, err := st.FeedStates(ctx)
	if err != nil {
		return "", fmt.Errorf("notify: %w", err)
	}
	for _, s := range states {
		if s.Feed == feed {
			return s.Operation, nil
		}
	}
	return "", fmt.Errorf("notify: feed %s: %w", feed, store.ErrNotFound)
}

// changedKeys are the index keys whose matches the diff can change.
func changedKeys(d *store.UpdateDiff) []match.Key {
	seen := map[match.Key]bool{}
	var out []match.Key
	for _, as := range [][]*vuln.Advisory{d.Added, d.Removed} {
		for _, a := range as {
			for _, ns := range match.ImageNamespaces(a.Namespace) {
				k := match.Key{Namespace: ns, Name: a.Package}
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b match.Key) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// diff is what one fragment's matches gain and lose between the views.
type diff struct{ added, removed []*vuln.Vulnerability }

// diffCache shares the evaluation of identical fragments (match.Fragments
// makes them byte-identical): images built on one base share most of them.
type diffCache struct {
	mu sync.Mutex
	m  map[string]diff
}

// maxCachedFragments bounds the cache; past it, fragments are evaluated
// every time.
const maxCachedFragments = 500_000

func (c *diffCache) get(k []byte) (diff, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[string(k)]
	return d, ok
}

func (c *diffCache) put(k []byte, d diff) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) < maxCachedFragments {
		c.m[string(k)] = d
	}
}

// evaluateManifest returns the notifications of one manifest from its
// index fragments. Fragments without rpm packages are evaluated alone (the
// matcher relates advisories within one key only, and a vulnerability's id
// names its package, so the fragments' changes are disjoint and their union
// is the report's change); rpm fragments together, merged, since rpm
// de-duplication relates a package's two keys.
func evaluateManifest(ctx context.Context, mb, ma *match.Matcher, cache *diffCache, manifest string, raw [][]byte, op string, summary bool) ([]Notification, error) {
	var added, removed []*vuln.Vulnerability
	var rpm []*vuln.IndexReport
	for _, b := range raw {
		if d, ok := cache.get(b); ok {
			added, removed = append(added, d.added...), append(removed, d.removed...)
			continue
		}
		f := new(vuln.IndexReport)
		if err := json.Unmarshal(b, f); err != nil {
			return nil, fmt.Errorf("index fragment: %w", err)
		}
		if hasRPM(f) {
			rpm = append(rpm, f)
			continue
		}
		d, err := evaluate(ctx, mb, ma, f)
		if err != nil {
			return nil, err
		}
		cache.put(b, d)
		added, removed = append(added, d.added...), append(removed, d.removed...)
	}
	if len(rpm) > 0 {
		d, err := evaluate(ctx, mb, ma, match.Merge(rpm))
		if err != nil {
			return nil, err
		}
		added, removed = append(added, d.added...), append(removed, d.removed...)
	}
	bySeverity := func(x, y *vuln.Vulnerability) int {
		return cmp.Or(cmp.Compare(y.NormalizedSeverity, x.NormalizedSeverity), cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID))
	}
	slices.SortFunc(added, bySeverity)
	slices.SortFunc(removed, bySeverity)
	if summary {
		switch {
		case len(added) > 0:
			added, removed = added[:1], nil
		case len(removed) > 0:
			removed = removed[:1]
		}
	}
	var out []Notification
	for _, v := range added {
		out = append(out, notification(op, manifest, Added, v))
	}
	for _, v := range removed {
		out = append(out, notification(op, manifest, Removed, v))
	}
	return out, nil
}

func hasRPM(f *vuln.IndexReport) bool {
	for _, p := range f.Packages {
		if p.Ecosystem == "rpm" {
			return true
		}
	}
	return false
}

// evaluate matches a report in both views and returns the change.
func evaluate(ctx context.Context, mb, ma *match.Matcher, ir *vuln.IndexReport) (diff, error) {
	b, err := mb.Match(ctx, ir)
	if err != nil {
		return diff{}, err
	}
	a, err := ma.Match(ctx, ir)
	if err != nil {
		return diff{}, err
	}
	var d diff
	for id, v := range a.Vulnerabilities {
		if _, ok := b.Vulnerabilities[id]; !ok {
			d.added = append(d.added, v)
		}
	}
	for id, v := range b.Vulnerabilities {
		if _, ok := a.Vulnerabilities[id]; !ok {
			d.removed = append(d.removed, v)
		}
	}
	return d, nil
}

func notification(op, manifest string, r Reason, v *vuln.Vulnerability) Notification {
	return Notification{
		ID:            notificationID(op, manifest, string(r), v.ID),
		Manifest:      manifest,
		Reason:        r,
		Vulnerability: Summarize(v),
	}
}

// Summarize is Clair's notification view of a report's vulnerability.
func Summarize(v *vuln.Vulnerability) VulnerabilitySummary {
	s := VulnerabilitySummary{
		Name:               v.Name,
		FixedInVersion:     v.FixedInVersion,
		Links:              v.Links,
		Description:        v.Description,
		NormalizedSeverity: v.NormalizedSeverity.String(),
		Package:            v.Package,
		Distribution:       v.Distribution,
	}
	if v.Repository != nil {
		s.Repository = v.Repository
	}
	return s
}
