package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
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
// Only the index fragments under the keys of the changed advisories are
// evaluated, each distinct one once; then only the manifests of the
// fragments whose matches changed are read (cost: the distinct fragments
// under the changed keys, plus the affected (manifest, key) rows).
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

	// First each distinct fragment under the changed keys, once (images
	// on one base share theirs): its change between the views. rpm
	// fragments are kept for the second pass.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		hash string
		data []byte
	}
	jobs := make(chan job, 64)
	var (
		mu       sync.Mutex
		affected = map[string]diff{}
		rpm      = map[string]*vuln.IndexReport{}
		ferr     error
	)
	fail := func(err error) {
		mu.Lock()
		if ferr == nil {
			ferr = err
		}
		mu.Unlock()
		cancel()
	}
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				f := new(vuln.IndexReport)
				if err := json.Unmarshal(j.data, f); err != nil {
					fail(fmt.Errorf("notify: index fragment %s: %w", j.hash, err))
					return
				}
				if hasRPM(f) {
					mu.Lock()
					rpm[j.hash] = f
					mu.Unlock()
					continue
				}
				d, err := evaluate(ctx, mb, ma, f)
				if err != nil {
					fail(fmt.Errorf("notify: index fragment %s: %w", j.hash, err))
					return
				}
				if len(d.added)+len(d.removed) > 0 {
					mu.Lock()
					affected[j.hash] = d
					mu.Unlock()
				}
			}
		}()
	}
	err = st.IndexedFragments(ctx, keys, func(h string, b []byte) error {
		select {
		case jobs <- job{h, slices.Clone(b)}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if ferr != nil {
		return nil, ferr
	}
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}

	// Then the manifests of the fragments that changed (and of the rpm
	// ones), manifest by manifest.
	hashes := make([]string, 0, len(affected)+len(rpm))
	for h := range affected {
		hashes = append(hashes, h)
	}
	for h := range rpm {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	var out []Notification
	var cur1 string
	var pending []string
	flush := func() error {
		if cur1 == "" {
			return nil
		}
		ns, err := manifestNotifications(ctx, mb, ma, affected, rpm, cur1, pending, cur, summary)
		if err != nil {
			return fmt.Errorf("notify: %s: %w", cur1, err)
		}
		out = append(out, ns...)
		cur1, pending = "", pending[:0]
		return nil
	}
	err = st.FragmentManifests(ctx, keys, hashes, func(m, h string) error {
		if m != cur1 {
			if err := flush(); err != nil {
				return err
			}
			cur1 = m
		}
		pending = append(pending, h)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
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
			names := []string{a.Package}
			if g, art, ok := strings.Cut(a.Package, ":"); ok && a.Namespace == vuln.EcosystemMaven && g != "" {
				// A jar without Maven metadata is indexed under its
				// artifact alone; the matcher gives it its group.
				names = append(names, art)
			}
			for _, ns := range match.ImageNamespaces(a.Namespace) {
				for _, n := range names {
					k := match.Key{Namespace: ns, Name: n}
					if !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
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

// manifestNotifications returns the notifications of one manifest from
// the changes of its fragments. Fragments without rpm packages were
// evaluated alone (the matcher relates advisories within one key only, and
// a vulnerability's id names its package, so the fragments' changes are
// disjoint and their union is the report's change); rpm fragments are
// evaluated together, merged, since rpm de-duplication relates a package's
// two keys.
func manifestNotifications(ctx context.Context, mb, ma *match.Matcher, affected map[string]diff, rpm map[string]*vuln.IndexReport, manifest string, hashes []string, op string, summary bool) ([]Notification, error) {
	var added, removed []*vuln.Vulnerability
	var rfs []*vuln.IndexReport
	for _, h := range hashes {
		if d, ok := affected[h]; ok {
			added, removed = append(added, d.added...), append(removed, d.removed...)
		}
		if f, ok := rpm[h]; ok {
			rfs = append(rfs, f)
		}
	}
	if len(rfs) > 0 {
		d, err := evaluate(ctx, mb, ma, match.Merge(rfs))
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
