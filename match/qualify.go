package match

import (
	"context"
	"slices"
	"strings"

	"github.com/openclair/clair/internal/cpe"
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

// distCandidates returns the candidates of one distribution package of
// namespace ns. csCPEs maps Red Hat content sets to their current CPEs
// (contentSetCPEs); it is used for rhel: namespaces only.
func distCandidates(ir *vuln.IndexReport, id string, p *vuln.Package, d *vuln.Distribution, ns string, csCPEs map[string][]string) []*candidate {
	if p.Ecosystem != "rpm" {
		return []*candidate{{id: id, pkg: p, dist: d, name: p.SourceName(), ver: p.SourceVersion()}}
	}
	if !strings.HasPrefix(ns, "rhel:") {
		csCPEs = nil
	}
	repos := repositoryCPEs(ir, id, csCPEs)
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
//
// A Red Hat content set (a repository of Key vuln.RedHatRepositoryKey) has the
// CPEs csCPEs gives it, the current mapping, when it gives any; otherwise
// the CPE recorded at index time from scanner/rhel's embedded mapping.
func repositoryCPEs(ir *vuln.IndexReport, id string, csCPEs map[string][]string) []string {
	var out []string
	add := func(r *vuln.Repository) {
		cpes := []string{r.CPE}
		if r.Key == vuln.RedHatRepositoryKey {
			if cs, ok := csCPEs[r.Name]; ok {
				cpes = cs
			}
		}
		for _, c := range cpes {
			if c != "" && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	for _, env := range ir.Environments[id] {
		for _, rid := range env.RepositoryIDs {
			if r, ok := ir.Repositories[rid]; ok {
				add(r)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, rid := range sortedKeys(ir.Repositories) {
		add(ir.Repositories[rid])
	}
	return out
}

// contentSetCPEs returns the CPEs the redhat-repo2cpe feed (feed/repo2cpe)
// maps the report's Red Hat content sets to, read in one store query per
// match: each content set is a row of namespace vuln.RedHatRepo2CPENamespace whose
// Repositories are its CPEs. The mapping is applied here, at match time,
// rather than frozen into the index report, so that a report follows the
// mapping Red Hat publishes today. Content sets the feed has no rows for
// (it never ran, or the set is unknown to it) are absent from the map, and
// keep the CPEs recorded at index time. The result is nil when the report
// has no RHEL distribution or no content sets.
func (m *Matcher) contentSetCPEs(ctx context.Context, ir *vuln.IndexReport) (map[string][]string, error) {
	rhelImage := false
	for _, d := range ir.Distributions {
		if strings.HasPrefix(vuln.Namespace(d), "rhel:") {
			rhelImage = true
			break
		}
	}
	if !rhelImage {
		return nil, nil
	}
	var sets []string
	for _, r := range ir.Repositories {
		if r != nil && r.Key == vuln.RedHatRepositoryKey && r.Name != "" {
			sets = append(sets, r.Name)
		}
	}
	if len(sets) == 0 {
		return nil, nil
	}
	slices.Sort(sets)
	sets = slices.Compact(sets)
	rows, err := m.Store.Advisories(ctx, vuln.RedHatRepo2CPENamespace, sets)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(sets))
	for _, a := range rows {
		for _, c := range a.Repositories {
			if c != "" && !slices.Contains(out[a.Package], c) {
				out[a.Package] = append(out[a.Package], c)
			}
		}
	}
	return out, nil
}

// qualifies applies the advisory's qualifiers to the candidate:
//   - Arches: the package's architecture must be listed, except for noarch
//     packages, which run on every machine; statements with architectures
//     speak of binary builds and never apply through a source name;
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
		// A noarch build runs on every machine, and OVAL feeds (Oracle)
		// name the machine's architecture, not the package's: a noarch
		// package passes whatever architectures are listed.
		if arch := normArch(c.pkg.Arch); arch != "" && arch != "noarch" && !slices.ContainsFunc(a.Arches, func(x string) bool { return normArch(x) == arch }) {
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
	a, p := cpe.Fields(adv), cpe.Fields(pkg)
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

// dedupeHits keeps one finding per rpm package, feed, vulnerability and
// state. Red Hat states one fix per product stream (9.2 EUS, 9.3, …) and per
// binary and source name; an image without repository information matches
// several of them, and the report should show the package once: through its
// own name rather than its source's, with the highest fixed version (the one
// an update of the release brings).
func dedupeHits(hits []hit) []hit {
	if !slices.ContainsFunc(hits, func(h hit) bool { return h.c.pkg.Ecosystem == "rpm" }) {
		return hits
	}
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
