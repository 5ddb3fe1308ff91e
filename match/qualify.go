package match

import (
	"slices"
	"strings"

	"github.com/openclair/clair/vuln"
)

// This file holds what the RPM distributions need beyond "namespace, name,
// version": the advisory qualifiers (architectures, module stream,
// repositories) and the double lookup of rpm packages.
//
// RPM feeds name binary packages where they know the build (Red Hat VEX lists
// every fixed binary rpm with its architecture; OVAL and ALAS do too) and the
// source package (the VEX "component") where they do not, as for unfixed
// CVEs. An rpm package is therefore looked up under its own name and version
// and, when its source rpm is named differently, under the source name and
// version, where only statements without architectures (component-level
// ones) apply. claircore matches Red Hat's data the same way.

// distCandidates returns the candidates of one distribution package.
func distCandidates(ir *vuln.IndexReport, id string, p *vuln.Package, d *vuln.Distribution) []*candidate {
	if p.Ecosystem != "rpm" {
		return []*candidate{{id: id, pkg: p, dist: d, name: p.SourceName(), ver: p.SourceVersion()}}
	}
	repos := repositoryCPEs(ir, id)
	out := []*candidate{{id: id, pkg: p, dist: d, name: p.Name, ver: p.Version, repos: repos}}
	if src := p.SourceName(); src != p.Name {
		out = append(out, &candidate{id: id, pkg: p, dist: d, name: src, ver: p.SourceVersion(), repos: repos, bySource: true})
	}
	return out
}

// repositoryCPEs lists the repository CPEs the package's environments point
// at. A package without any gets those of every repository of the image that
// has a CPE: the indexer links a repository to the packages of the same
// scanner result only, and the Red Hat content manifests that give
// repositories are read by a scanner of their own, so for now the image's
// content sets stand for all its rpm packages. (claircore narrows this to the
// packages of the layer the manifest is in.)
func repositoryCPEs(ir *vuln.IndexReport, id string) []string {
	var out []string
	for _, env := range ir.Environments[id] {
		for _, rid := range env.RepositoryIDs {
			if r, ok := ir.Repositories[rid]; ok && r.CPE != "" && !slices.Contains(out, r.CPE) {
				out = append(out, r.CPE)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, rid := range sortedKeys(ir.Repositories) {
		if r := ir.Repositories[rid]; r.CPE != "" && !slices.Contains(out, r.CPE) {
			out = append(out, r.CPE)
		}
	}
	return out
}

// qualifies applies the advisory's qualifiers to the candidate:
//   - Arches: the package's architecture must be listed ("noarch" is an
//     architecture like the others); statements with architectures speak of
//     binary builds and never apply through a source name;
//   - Module: the package's module stream must be the advisory's, and a
//     package from no module only matches advisories of none;
//   - Repositories: when both sides have repositories, one of the package's
//     must be among the advisory's. A package without repository
//     information (an image not built by Red Hat) is matched anyway, as
//     Clair does.
func qualifies(a *vuln.Advisory, c *candidate) bool {
	if len(a.Arches) > 0 {
		if c.bySource {
			return false
		}
		if arch := normArch(c.pkg.Arch); arch != "" && !slices.ContainsFunc(a.Arches, func(x string) bool { return normArch(x) == arch }) {
			return false
		}
	}
	if a.Module != c.pkg.Module {
		return false
	}
	if len(a.Repositories) > 0 && len(c.repos) > 0 {
		for _, want := range a.Repositories {
			for _, have := range c.repos {
				if cpeCovers(want, have) {
					return true
				}
			}
		}
		return false
	}
	return true
}

// normArch folds the two spellings of the common architectures.
func normArch(a string) string {
	switch a {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return a
}

// cpeCovers reports whether the advisory's repository CPE covers the
// package's repository CPE. Both are CPE 2.2 URIs (cpe:/o:redhat:…) or 2.3
// formatted strings. An empty or "*" attribute of the advisory's matches
// anything, one ending in "*" matches by prefix, and, as in claircore, the
// advisory's last attribute also matches a dotted refinement of it
// ("cpe:/a:redhat:openshift:4" covers "cpe:/a:redhat:openshift:4.13::el8",
// Red Hat's own reading of its CPEs). The part (o, a) is not compared: Red
// Hat names a whole release cpe:/o:redhat:enterprise_linux:9 and its
// AppStream repository cpe:/a:redhat:enterprise_linux:9::appstream.
func cpeCovers(adv, pkg string) bool {
	if adv == pkg {
		return true
	}
	a, p := cpeAttrs(adv), cpeAttrs(pkg)
	if a == nil || p == nil {
		return false
	}
	last := 0
	for i, x := range a {
		if x != "" && x != "*" {
			last = i
		}
	}
	for i := 1; i < len(a); i++ {
		x, y := a[i], ""
		if i < len(p) {
			y = p[i]
		}
		switch {
		case x == "" || x == "*" || x == y:
		case strings.HasSuffix(x, "*") && strings.HasPrefix(y, strings.TrimSuffix(x, "*")):
		case i == last && strings.HasPrefix(y, x+"."):
		default:
			return false
		}
	}
	return true
}

func cpeAttrs(s string) []string {
	switch {
	case strings.HasPrefix(s, "cpe:/"):
		return strings.Split(s[len("cpe:/"):], ":")
	case strings.HasPrefix(s, "cpe:2.3:"):
		return strings.Split(s[len("cpe:2.3:"):], ":")
	}
	return nil
}

// dedupeHits keeps one finding per rpm package, feed, vulnerability and
// state. Red Hat states one fix per product stream (9.2 EUS, 9.3, …) and per
// binary and source name; an image without repository information matches
// several of them, and the report should show the package once: through its
// own name rather than its source's, with the highest fixed version (the one
// an update of the release brings).
func dedupeHits(hits []hit) []hit {
	type key struct {
		pkg, feed, name string
		state           vuln.State
	}
	best := map[key]int{}
	drop := make([]bool, len(hits))
	for i, h := range hits {
		if h.c.pkg.Ecosystem != "rpm" {
			continue
		}
		k := key{h.c.id, h.adv.adv.Feed, h.adv.adv.Name, h.adv.adv.State}
		j, ok := best[k]
		if !ok {
			best[k] = i
			continue
		}
		if better(h, hits[j]) {
			drop[j] = true
			best[k] = i
		} else {
			drop[i] = true
		}
	}
	out := hits[:0:0]
	for i, h := range hits {
		if !drop[i] {
			out = append(out, h)
		}
	}
	return out
}

// better reports whether hit a is preferable to b for the same package,
// feed, vulnerability and state.
func better(a, b hit) bool {
	if a.c.bySource != b.c.bySource {
		return !a.c.bySource
	}
	fa, fb := a.adv.adv.FixedIn, b.adv.adv.FixedIn
	if fa == "" || fb == "" || a.adv.scheme == nil {
		return false
	}
	va, err1 := a.adv.scheme.Parse(fa)
	vb, err2 := a.adv.scheme.Parse(fb)
	if err1 != nil || err2 != nil {
		return false
	}
	return va.Compare(vb) > 0
}
