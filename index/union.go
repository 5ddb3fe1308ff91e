package index

import (
	"errors"
	"path"

	"github.com/openclair/clair/scanner"
)

// layerView is one layer's records, ready for lookups.
type layerView struct {
	digest    string
	name      string // for warnings: the digest, or the folder
	whiteouts map[string]bool
	opaque    map[string]bool
	scans     map[string]*scanRecord // by scanner name
}

func (v *layerView) fill(w *walker, scanners []scanner.Scanner) {
	for i, s := range scanners {
		v.scans[s.Name()] = w.recs[i]
	}
	v.setLayer(w.layerRecord())
}

func (v *layerView) setLayer(r *layerRecord) {
	v.whiteouts = make(map[string]bool, len(r.Whiteouts))
	for _, p := range r.Whiteouts {
		v.whiteouts[p] = true
	}
	v.opaque = make(map[string]bool, len(r.Opaque))
	for _, p := range r.Opaque {
		v.opaque[p] = true
	}
}

// hidesBelow says whether this layer hides what lower layers have at p: a
// whiteout of p or of a directory above it, or an opaque directory above it.
// It says nothing about the layer's own entries: both are applied to the
// layers below only.
func (v *layerView) hidesBelow(p string) bool {
	if len(v.whiteouts) == 0 && len(v.opaque) == 0 {
		return false
	}
	if v.whiteouts[p] || v.opaque["."] {
		return true
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if v.whiteouts[d] || v.opaque[d] {
			return true
		}
	}
	return false
}

// maxLinkHops is the kernel's bound on symlinks followed in one lookup
// (MAXSYMLINKS).
const maxLinkHops = 40

// union is the merged view of the layers for one scanner.
type union struct {
	views   []*layerView // bottom first
	scanner string
}

func (u *union) rec(layer int) *scanRecord { return u.views[layer].scans[u.scanner] }

// entry is where a path resolves to.
type entry struct {
	layer int
	path  string // the file's own path, after links
	res   *scanner.Result
}

// lookup finds the visible entry at p without following it: from the top,
// the first layer that has p, unless a layer above it hides p.
func (u *union) lookup(p string) (layer int, res *scanner.Result, target string, isLink, ok bool) {
	for l := len(u.views) - 1; l >= 0; l-- {
		if r := u.rec(l); r != nil {
			if res, ok := r.Files[p]; ok {
				return l, res, "", false, true
			}
			if t, ok := r.Links[p]; ok {
				return l, nil, t, true, true
			}
		}
		if u.views[l].hidesBelow(p) {
			return 0, nil, "", false, false
		}
	}
	return 0, nil, "", false, false
}

// resolve follows p through links in the union view. ok is false when p is
// not visible, or a link on the way leads to a path the scanner has nothing
// for (target reports the last path tried).
func (u *union) resolve(p string) (e entry, target string, ok bool, err error) {
	cur := p
	for range maxLinkHops + 1 {
		layer, res, t, isLink, found := u.lookup(cur)
		if !found {
			return entry{}, cur, false, nil
		}
		if !isLink {
			return entry{layer: layer, path: cur, res: res}, "", true, nil
		}
		cur = t
	}
	return entry{}, "", false, errLoop
}

// errLoop is a chain of links longer than the kernel would follow.
var errLoop = errors.New("symlink loop")

// pkgKey is what "the same package" means for continuity across layers.
func pkgKey(name, version string) string { return name + "\x00" + version }

// introduced returns the lowest layer from which the file at p holds the
// package continuously up to layer top: walking down, every layer that has
// p must list the package, and no layer in between may hide p from below.
func (u *union) introduced(p string, top int, key string, memo map[*scanner.Result]map[string]bool) int {
	in := top
	for l := top - 1; l >= 0; l-- {
		if u.views[l+1].hidesBelow(p) {
			break
		}
		r := u.rec(l)
		if r == nil {
			continue
		}
		if res, ok := r.Files[p]; ok {
			if !hasPackage(res, key, memo) {
				break
			}
			in = l
			continue
		}
		if _, ok := r.Links[p]; ok {
			break
		}
	}
	return in
}

func hasPackage(res *scanner.Result, key string, memo map[*scanner.Result]map[string]bool) bool {
	set, ok := memo[res]
	if !ok {
		set = make(map[string]bool, len(res.Packages))
		for _, p := range res.Packages {
			if p != nil {
				set[pkgKey(p.Name, p.Version)] = true
			}
		}
		memo[res] = set
	}
	return set[key]
}
