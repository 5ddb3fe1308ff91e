package index

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// found is one visible result: the file at path (the key the scanner sees,
// a link's own path for a link) whose content is the file at src in layer.
type found struct {
	path  string
	src   string
	layer int
	res   *scanner.Result
}

// pkgFound is a package with where it was found.
type pkgFound struct {
	pkg   *vuln.Package
	env   *vuln.Environment
	repos []*vuln.Repository
	key   string // the package as JSON, without its id: identical ones merge
}

func buildReport(img *image.Image, scanners []scanner.Scanner, views []*layerView, opts Options) (*vuln.IndexReport, error) {
	r := &vuln.IndexReport{
		ManifestHash:  img.ManifestDigest,
		State:         vuln.IndexFinished,
		Success:       true,
		Packages:      map[string]*vuln.Package{},
		Distributions: map[string]*vuln.Distribution{},
		Repositories:  map[string]*vuln.Repository{},
		Environments:  map[string][]*vuln.Environment{},
	}
	for _, l := range img.Layers {
		if l.Digest != "" {
			r.Layers = append(r.Layers, l.Digest)
		}
	}
	var (
		warnings []string
		pkgs     []*pkgFound
		dists    []*vuln.Distribution
		repos    []*vuln.Repository
	)
	// Results are gathered first and numbered after, so that ids follow
	// the sort order and not the order scanners or layers finished in.
	type resultAt struct {
		res *scanner.Result
		fs  []found // the visible files behind res (one, or several combined)
		u   *union  // the scanner's view, to trace a package down the layers
	}
	var results []resultAt
	// Links to what no layer has, whichever scanners wanted them.
	dangling := map[string]bool{}
	for _, s := range scanners {
		u := &union{views: views, scanner: s.Name()}
		vis, warns, dl, err := u.visible()
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, warns...)
		for _, d := range dl {
			dangling[d] = true
		}
		if c, ok := s.(scanner.Combiner); ok {
			in := make(map[string]*scanner.Result, len(vis))
			for _, f := range vis {
				in[f.path] = f.res
			}
			var res *scanner.Result
			if len(in) > 0 {
				res = c.Combine(in)
			}
			if res != nil {
				results = append(results, resultAt{res: res, fs: vis, u: u})
			}
			continue
		}
		for _, f := range dedupeLinks(vis) {
			if f.res == nothing || isEmpty(f.res) {
				continue // what most candidate executables say
			}
			results = append(results, resultAt{res: f.res, fs: []found{f}, u: u})
		}
	}
	warnings = append(warnings, danglingWarning(dangling)...)
	memo := map[*scanner.Result]map[string]bool{}
	// Repositories a repository scanner found (Red Hat's content
	// manifests) describe the packages installed in the same layer.
	type layerRepos struct {
		digest string
		repos  []*vuln.Repository
	}
	var repoLayers []layerRepos
	for _, ra := range results {
		res := ra.res
		warnings = append(warnings, layerWarnings(res.Warnings, ra.fs, views)...)
		if res.Distribution != nil {
			d := *res.Distribution
			dists = append(dists, &d)
		}
		var rrepos []*vuln.Repository
		for _, rp := range res.Repositories {
			if rp != nil {
				c := *rp
				rrepos = append(rrepos, &c)
			}
		}
		repos = append(repos, rrepos...)
		if len(rrepos) > 0 && len(res.Packages) == 0 {
			for _, f := range ra.fs {
				repoLayers = append(repoLayers, layerRepos{digest: views[f.layer].digest, repos: rrepos})
			}
		}
		for _, p := range res.Packages {
			if p == nil {
				continue
			}
			pf := &pkgFound{pkg: clonePackage(p), env: &vuln.Environment{}, repos: rrepos}
			f, ok := origin(ra.fs, p)
			if ok {
				if pf.pkg.PackageDB == "" {
					pf.pkg.PackageDB = f.path
				}
				l := ra.u.introduced(f.src, f.layer, pkgKey(p.Name, p.Version), memo)
				pf.env.IntroducedIn = views[l].digest
			} else if len(ra.fs) > 0 {
				// A combined result's package that no single file listed:
				// credit the highest layer that contributed.
				top := ra.fs[0]
				for _, f := range ra.fs[1:] {
					if f.layer > top.layer {
						top = f
					}
				}
				pf.env.IntroducedIn = views[top.layer].digest
			}
			pf.env.PackageDB = pf.pkg.PackageDB
			pkgs = append(pkgs, pf)
		}
	}

	for _, pf := range pkgs {
		if len(pf.repos) > 0 || pf.pkg.Ecosystem != "rpm" {
			continue
		}
		for _, lr := range repoLayers {
			if lr.digest == pf.env.IntroducedIn {
				pf.repos = append(pf.repos, lr.repos...)
			}
		}
	}

	distIDs := numberDistributions(r, dists)
	repoIDs := numberRepositories(r, repos)
	if left := numberPackages(r, pkgs, distIDs, repoIDs, opts.maxReportBytes()); left > 0 {
		warnings = append(warnings, fmt.Sprintf("index: the report's packages passed %s (index option MaxReportBytes): %d packages left out", limit.Bytes(opts.maxReportBytes()), left))
	}
	r.Warnings = dedupeStrings(warnings)
	return r, nil
}

// visible resolves every path the scanner recorded in any layer to what the
// final image shows there, in path order.
func (u *union) visible() (out []found, warns, dangling []string, err error) {
	paths := map[string]bool{}
	for l := range u.views {
		if r := u.rec(l); r != nil {
			for p := range r.Files {
				paths[p] = true
			}
			for p := range r.Links {
				paths[p] = true
			}
		}
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	// Links to directories lead to no file, and are no mistake either.
	dirs := map[string]bool{}
	for l := range u.views {
		if r := u.rec(l); r != nil {
			for _, d := range r.Dirs {
				dirs[d] = true
			}
		}
	}
	var loops int
	for _, p := range sorted {
		e, missing, ok, err := u.resolve(p)
		if errors.Is(err, errLoop) {
			// A loop is the image's mistake, not a reason to index
			// none of it.
			if loops++; loops <= maxLoopWarnings {
				l, _, _, _, _ := u.lookup(p)
				warns = append(warns, fmt.Sprintf("index: layer %s: %s: symlink loop (more than %d links to follow); not indexed", u.views[l].name, p, maxLinkHops))
			}
			continue
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok {
			if missing != p && !dirs[missing] {
				l, _, _, _, _ := u.lookup(p)
				dangling = append(dangling, fmt.Sprintf("layer %s: %s: symlink to %s", u.views[l].name, p, missing))
			}
			continue
		}
		res := e.res
		if res == nil {
			res = &scanner.Result{}
		}
		out = append(out, found{path: p, src: e.path, layer: e.layer, res: res})
	}
	if loops > maxLoopWarnings {
		warns = append(warns, fmt.Sprintf("index: %s: %d more symlink loops; not indexed", u.scanner, loops-maxLoopWarnings))
	}
	return out, warns, dangling, nil
}

func isEmpty(r *scanner.Result) bool {
	return len(r.Packages) == 0 && r.Distribution == nil && len(r.Repositories) == 0 && len(r.Warnings) == 0
}

// layerWarnings names the layer in a scanner's warnings (the indexer's
// own name it already): the layer of the file, or the top one of the
// files a Combiner read.
func layerWarnings(ws []string, fs []found, views []*layerView) []string {
	if len(ws) == 0 || len(fs) == 0 {
		return ws
	}
	top := fs[0].layer
	for _, f := range fs[1:] {
		top = max(top, f.layer)
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		if strings.HasPrefix(w, "index: ") {
			out[i] = w
			continue
		}
		out[i] = "layer " + views[top].name + ": " + w
	}
	return out
}

// danglingWarning is one line for all the scanners: a pnpm tree or a "lib
// -> usr/lib" link to another layer's directory makes hundreds of links to
// no file, which are not worth a line each.
func danglingWarning(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	ds := make([]string, 0, len(set))
	for d := range set {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	if len(ds) == 1 {
		return []string{fmt.Sprintf("index: %s, which the image does not have (or a directory of a layer below)", ds[0])}
	}
	return []string{fmt.Sprintf("index: %d symlinks to paths the image does not have (or directories of layers below), e.g. %s", len(ds), ds[0])}
}

// maxLoopWarnings bounds the symlink loops named one by one.
const maxLoopWarnings = 5

// dedupeLinks drops a link whose target is itself visible at its own path:
// the same content would otherwise count twice. Combiners see both, since
// they weigh files by name.
func dedupeLinks(vis []found) []found {
	direct := map[string]bool{}
	for _, f := range vis {
		if f.path == f.src {
			direct[f.src] = true
		}
	}
	out := vis[:0:0]
	for _, f := range vis {
		if f.path != f.src && direct[f.src] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// origin finds the visible file that listed the package.
func origin(fs []found, p *vuln.Package) (found, bool) {
	if len(fs) == 1 {
		return fs[0], true
	}
	for _, f := range fs {
		for _, q := range f.res.Packages {
			if q != nil && q.Name == p.Name && q.Version == p.Version {
				return f, true
			}
		}
	}
	return found{}, false
}

func clonePackage(p *vuln.Package) *vuln.Package {
	c := *p
	c.ID = ""
	if p.Source != nil {
		s := *p.Source
		s.ID = ""
		s.Source = nil
		c.Source = &s
	}
	return &c
}

func numberDistributions(r *vuln.IndexReport, ds []*vuln.Distribution) []string {
	var ids []string
	seen := map[vuln.Distribution]string{}
	for _, d := range ds {
		d.ID = ""
		if _, ok := seen[*d]; ok {
			continue
		}
		id := strconv.Itoa(len(ids) + 1)
		seen[*d] = id
		d.ID = id
		r.Distributions[id] = d
		ids = append(ids, id)
	}
	return ids
}

func repoKey(rp *vuln.Repository) vuln.Repository {
	k := *rp
	k.ID = ""
	return k
}

func numberRepositories(r *vuln.IndexReport, rs []*vuln.Repository) map[vuln.Repository]string {
	ids := map[vuln.Repository]string{}
	for _, rp := range rs {
		k := repoKey(rp)
		if _, ok := ids[k]; ok {
			continue
		}
		id := strconv.Itoa(len(ids) + 1)
		ids[k] = id
		c := k
		c.ID = id
		r.Repositories[id] = &c
	}
	return ids
}

// numberPackages sorts the packages (package_db, name, version, arch, then
// the rest), merges identical ones, and numbers them from "1". Packages
// past maxBytes of JSON (estimated) are left out; it returns their number.
func numberPackages(r *vuln.IndexReport, pkgs []*pkgFound, distIDs []string, repoIDs map[vuln.Repository]string, maxBytes int64) (leftOut int) {
	for _, pf := range pkgs {
		b, _ := json.Marshal(pf.pkg)
		pf.key = string(b)
	}
	slices.SortStableFunc(pkgs, func(a, b *pkgFound) int {
		return cmp.Or(
			cmp.Compare(a.pkg.PackageDB, b.pkg.PackageDB),
			cmp.Compare(a.pkg.Name, b.pkg.Name),
			cmp.Compare(a.pkg.Version, b.pkg.Version),
			cmp.Compare(a.pkg.Arch, b.pkg.Arch),
			cmp.Compare(a.key, b.key),
			cmp.Compare(a.env.IntroducedIn, b.env.IntroducedIn),
		)
	})
	// Packages point at the distribution the image is: there is one in
	// practice, and with several the first (in scanner order) is the best
	// guess the results allow.
	distID := ""
	if len(distIDs) > 0 {
		distID = distIDs[0]
	}
	byKey := map[string]string{}
	n := 0
	var size int64
	for _, pf := range pkgs {
		// The package once, its environment each time, and the keys.
		size += envSize + int64(len(pf.env.PackageDB)+len(pf.env.IntroducedIn))
		if _, ok := byKey[pf.key]; !ok {
			size += int64(len(pf.key)) + 16
		}
		if size > maxBytes {
			leftOut++
			continue
		}
		pf.env.DistributionID = distID
		for _, rp := range pf.repos {
			if id, ok := repoIDs[repoKey(rp)]; ok && !slices.Contains(pf.env.RepositoryIDs, id) {
				pf.env.RepositoryIDs = append(pf.env.RepositoryIDs, id)
			}
		}
		if id, ok := byKey[pf.key]; ok {
			if !slices.ContainsFunc(r.Environments[id], func(e *vuln.Environment) bool { return sameEnv(e, pf.env) }) {
				r.Environments[id] = append(r.Environments[id], pf.env)
			}
			continue
		}
		n++
		id := strconv.Itoa(n)
		byKey[pf.key] = id
		pf.pkg.ID = id
		r.Packages[id] = pf.pkg
		r.Environments[id] = []*vuln.Environment{pf.env}
	}
	// Source packages get ids of their own after the binaries, one per
	// (name, version), as Clair numbers them; they stay nested, not listed.
	srcIDs := map[[2]string]string{}
	for i := 1; i <= n; i++ {
		src := r.Packages[strconv.Itoa(i)].Source
		if src == nil {
			continue
		}
		k := [2]string{src.Name, src.Version}
		id, ok := srcIDs[k]
		if !ok {
			id = strconv.Itoa(n + len(srcIDs) + 1)
			srcIDs[k] = id
		}
		src.ID = id
	}
	return leftOut
}

// envSize is the JSON of an environment without its strings, and its key.
const envSize = 100

func sameEnv(a, b *vuln.Environment) bool {
	return a.PackageDB == b.PackageDB && a.IntroducedIn == b.IntroducedIn && a.DistributionID == b.DistributionID && slices.Equal(a.RepositoryIDs, b.RepositoryIDs)
}

func dedupeStrings(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
