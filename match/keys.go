package match

import (
	"slices"
	"strconv"
	"strings"

	"github.com/openclair/clair/vuln"
)

// Key is one name the matcher looks advisories up under: the image's
// namespace (a distribution's, or a language ecosystem) and the package name
// as the feeds key it (source name, PEP 503 name, ...).
type Key struct {
	Namespace string
	Name      string
}

// Fragments splits ir by the keys Match looks its packages up under. Each
// fragment is a report of its own holding only the packages looked up under
// that key, with the distribution, environments and repositories Match reads
// for them. Matching the union of the fragments of some keys gives exactly
// the hits the whole report has for advisories of those keys: every rule
// that relates advisories to one another (preferred namespaces, "not
// affected" overrides, rpm de-duplication) stays within one package or one
// key. The notifier keeps these fragments in an index, so that an update
// re-evaluates only the packages it can change, without decoding reports.
//
// Fragments of packages other than rpm are canonical: no manifest, package
// ids numbered in content order, only the fields matching reads. Two images
// with the same packages under a key have byte-identical fragments, so
// their evaluation can be shared. rpm fragments keep the report's package
// ids, which rpm de-duplication relates across keys: they are evaluated per
// manifest, merged.
func Fragments(ir *vuln.IndexReport) map[Key]*vuln.IndexReport {
	out := map[Key]*vuln.IndexReport{}
	frag := func(k Key) *vuln.IndexReport {
		f, ok := out[k]
		if !ok {
			f = &vuln.IndexReport{
				Packages:      map[string]*vuln.Package{},
				Distributions: map[string]*vuln.Distribution{},
				Environments:  map[string][]*vuln.Environment{},
			}
			out[k] = f
		}
		return f
	}
	for id, p := range ir.Packages {
		if _, ok := ecosystemFormat(p.Ecosystem); !ok {
			continue
		}
		if vuln.IsLanguage(p.Ecosystem) {
			f := frag(Key{p.Ecosystem, feedName(p.Ecosystem, p.Name)})
			f.Packages[id] = matchFields(p)
			continue
		}
		d := distributionOf(ir, id)
		ns := vuln.Namespace(d)
		if ns == "" {
			continue
		}
		names := []string{p.SourceName()}
		if p.Ecosystem == "rpm" && p.SourceName() != p.Name {
			names = []string{p.Name, p.SourceName()}
		}
		for _, n := range names {
			f := frag(Key{ns, n})
			f.Packages[id] = matchFields(p)
			f.Distributions[d.ID] = d
			// The package's environments, pointed at the distribution
			// distributionOf chose, so that it chooses it again.
			env := &vuln.Environment{DistributionID: d.ID}
			if p.Ecosystem == "rpm" {
				for _, e := range ir.Environments[id] {
					env.RepositoryIDs = append(env.RepositoryIDs, e.RepositoryIDs...)
				}
				// repositoryCPEs may read every repository of
				// the image, and contentSetCPEs its content sets.
				if f.Repositories == nil {
					f.Repositories = map[string]*vuln.Repository{}
				}
				for rid, r := range ir.Repositories {
					f.Repositories[rid] = r
				}
			}
			f.Environments[id] = []*vuln.Environment{env}
		}
	}
	for _, f := range out {
		canonical(f)
	}
	return out
}

// matchFields is the part of a package matching reads. A distribution
// package other than rpm is matched by its source's name and version only:
// it becomes that source, so the binaries of one source build collapse
// into one entry (canonical), and images that differ only in which of
// them they install share the fragment.
func matchFields(p *vuln.Package) *vuln.Package {
	if p.Ecosystem != "rpm" && !vuln.IsLanguage(p.Ecosystem) {
		return &vuln.Package{Name: p.SourceName(), Version: p.SourceVersion(), Module: p.Module, Arch: p.Arch, Ecosystem: p.Ecosystem}
	}
	out := &vuln.Package{Name: p.Name, Version: p.Version, Kind: p.Kind, Module: p.Module, Arch: p.Arch, Ecosystem: p.Ecosystem}
	if p.Source != nil {
		out.Source = &vuln.Package{Name: p.Source.Name, Version: p.Source.Version, Kind: p.Source.Kind}
	}
	return out
}

// canonical numbers the packages of a fragment without rpm packages in
// content order, once each, so that equal contents encode to equal bytes.
func canonical(f *vuln.IndexReport) {
	type entry struct {
		key  string
		p    *vuln.Package
		envs []*vuln.Environment
	}
	var es []entry
	for id, p := range f.Packages {
		if p.Ecosystem == "rpm" {
			return
		}
		src := ""
		if p.Source != nil {
			src = p.Source.Name + "\x00" + p.Source.Version + "\x00" + p.Source.Kind
		}
		es = append(es, entry{strings.Join([]string{p.Name, p.Version, p.Kind, p.Module, p.Arch, p.Ecosystem, src}, "\x00"), p, f.Environments[id]})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	es = slices.CompactFunc(es, func(a, b entry) bool { return a.key == b.key })
	f.Packages = make(map[string]*vuln.Package, len(es))
	envs := make(map[string][]*vuln.Environment, len(es))
	for i, e := range es {
		id := strconv.Itoa(i + 1)
		f.Packages[id] = e.p
		if e.envs != nil {
			envs[id] = e.envs
		}
	}
	f.Environments = envs
}

// Merge joins fragments of one manifest (Fragments) into one report.
func Merge(frags []*vuln.IndexReport) *vuln.IndexReport {
	out := &vuln.IndexReport{
		Packages:      map[string]*vuln.Package{},
		Distributions: map[string]*vuln.Distribution{},
		Environments:  map[string][]*vuln.Environment{},
		Repositories:  map[string]*vuln.Repository{},
	}
	for _, f := range frags {
		out.ManifestHash, out.State, out.Success = f.ManifestHash, f.State, f.Success
		for k, v := range f.Packages {
			out.Packages[k] = v
		}
		for k, v := range f.Distributions {
			out.Distributions[k] = v
		}
		for k, v := range f.Environments {
			out.Environments[k] = v
		}
		for k, v := range f.Repositories {
			out.Repositories[k] = v
		}
	}
	return out
}

// ImageNamespaces lists the image namespaces whose matches read advisories
// of namespace ns: its own, and for Ubuntu Pro statements the Ubuntu
// release they complement (see namespaces).
func ImageNamespaces(ns string) []string {
	if rel, ok := strings.CutPrefix(ns, "ubuntu-pro:"); ok {
		return []string{ns, "ubuntu:" + rel}
	}
	return []string{ns}
}
