// Package match joins an IndexReport with today's advisories into a
// VulnerabilityReport. It is a pure function of the two, cheap enough to run
// on every request, so an image is never rescanned when the data changes.
package match

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// Store is the subset of store.Store the matcher reads.
type Store interface {
	Advisories(ctx context.Context, namespace string, packages []string) ([]*vuln.Advisory, error)
	Details(ctx context.Context, advs []*vuln.Advisory) error
}

// Matcher computes vulnerability reports.
type Matcher struct {
	Store Store
	cache cache
}

// ecosystemFormat maps a package's ecosystem to the version format of the
// advisories that may apply to it: a dpkg package is never compared with an
// apk advisory even if names collide.
var ecosystemFormat = map[string]string{
	"dpkg": "dpkg",
	"apk":  "apk",
}

// candidate is one package to match, with the keys the feeds use.
type candidate struct {
	id   string
	pkg  *vuln.Package
	dist *vuln.Distribution
	ns   string
	name string // name the feed keys on (source / origin)
	ver  string // version the feed's ranges are in (source version)
}

// Match computes the vulnerability report of ir.
func (m *Matcher) Match(ctx context.Context, ir *vuln.IndexReport) (*vuln.VulnerabilityReport, error) {
	vr := &vuln.VulnerabilityReport{
		ManifestHash:           ir.ManifestHash,
		Packages:               orEmpty(ir.Packages),
		Distributions:          orEmpty(ir.Distributions),
		Repositories:           orEmpty(ir.Repositories),
		Environments:           orEmpty(ir.Environments),
		Vulnerabilities:        map[string]*vuln.Vulnerability{},
		PackageVulnerabilities: map[string][]string{},
		Enrichments:            map[string][]any{},
	}

	byNS := map[string][]*candidate{}
	for id, p := range ir.Packages {
		d := distributionOf(ir, id)
		ns := vuln.Namespace(d)
		if ns == "" {
			continue
		}
		if _, ok := ecosystemFormat[p.Ecosystem]; !ok {
			continue
		}
		c := &candidate{id: id, pkg: p, dist: d, ns: ns, name: p.SourceName(), ver: p.SourceVersion()}
		byNS[ns] = append(byNS[ns], c)
	}

	// matched pairs: (advisory, candidate); details are fetched once for all.
	type hit struct {
		adv *vuln.Advisory
		c   *candidate
	}
	var hits []hit
	nss := make([]string, 0, len(byNS))
	for ns := range byNS {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		cands := byNS[ns]
		names := make([]string, 0, len(cands))
		seen := map[string]bool{}
		for _, c := range cands {
			if !seen[c.name] {
				seen[c.name] = true
				names = append(names, c.name)
			}
		}
		sort.Strings(names)
		byPkg, err := m.lookup(ctx, ns, names)
		if err != nil {
			return nil, fmt.Errorf("match: %s: %w", ns, err)
		}
		for _, c := range cands {
			as := byPkg[c.name]
			if len(as) == 0 {
				continue
			}
			format := ecosystemFormat[c.pkg.Ecosystem]
			scheme, ok := version.Lookup(format)
			if !ok {
				return nil, fmt.Errorf("match: no version scheme %q registered", format)
			}
			installed, err := scheme.Parse(c.ver)
			if err != nil {
				// An unparseable installed version cannot be placed in any
				// range; the package is skipped rather than guessed at.
				continue
			}
			for _, a := range as {
				if a.adv.VersionFormat != format || a.scheme == nil {
					continue
				}
				if a.affects(installed) {
					hits = append(hits, hit{a.adv, c})
				}
			}
		}
	}
	if len(hits) == 0 {
		return vr, nil
	}

	// One advisory row may match several binaries of one source; fetch its
	// details once.
	uniq := map[*vuln.Advisory]bool{}
	var advs []*vuln.Advisory
	for _, h := range hits {
		if !uniq[h.adv] {
			uniq[h.adv] = true
			advs = append(advs, h.adv)
		}
	}
	detailed, err := m.details(ctx, advs)
	if err != nil {
		return nil, fmt.Errorf("match: details: %w", err)
	}

	for _, h := range hits {
		v := vulnerability(detailed[h.adv], h.c)
		if _, ok := vr.Vulnerabilities[v.ID]; !ok {
			vr.Vulnerabilities[v.ID] = v
		}
		ids := vr.PackageVulnerabilities[h.c.id]
		if !slices.Contains(ids, v.ID) {
			vr.PackageVulnerabilities[h.c.id] = append(ids, v.ID)
		}
	}
	for id, ids := range vr.PackageVulnerabilities {
		sort.Slice(ids, func(i, j int) bool {
			a, b := vr.Vulnerabilities[ids[i]], vr.Vulnerabilities[ids[j]]
			if a.NormalizedSeverity != b.NormalizedSeverity {
				return a.NormalizedSeverity > b.NormalizedSeverity
			}
			return a.Name < b.Name
		})
		vr.PackageVulnerabilities[id] = ids
	}
	return vr, nil
}

// namespaces lists the namespaces whose advisories apply to an image of
// namespace ns, most authoritative first. Ubuntu publishes a release's
// Pro (ESM) statements under a separate ecosystem; once a release leaves
// standard support its fixes are published only there, and an image without
// Pro still carries the vulnerable versions, so they are reported too.
func namespaces(ns string) []string {
	if rel, ok := strings.CutPrefix(ns, "ubuntu:"); ok {
		return []string{ns, "ubuntu-pro:" + rel}
	}
	return []string{ns}
}

// preferred keeps, for each (feed, vulnerability, package), the statements of
// the most authoritative namespace that has any: a standard Ubuntu statement
// wins over a Pro one for the same CVE and package.
func preferred(advs []*vuln.Advisory, ns string) []*vuln.Advisory {
	type key struct{ feed, name, pkg string }
	best := map[key]string{}
	for _, a := range advs {
		k := key{a.Feed, a.Name, a.Package}
		if cur, ok := best[k]; !ok || (a.Namespace == ns && cur != ns) {
			best[k] = a.Namespace
		}
	}
	out := advs[:0:0]
	for _, a := range advs {
		if best[key{a.Feed, a.Name, a.Package}] == a.Namespace {
			out = append(out, a)
		}
	}
	return out
}

// notOverridden drops advisories that an explicit "not affected" statement of
// the same feed for the same vulnerability cancels.
func notOverridden(as []*vuln.Advisory) []*vuln.Advisory {
	var na map[[2]string]bool
	for _, a := range as {
		if a.State == vuln.StateNotAffected {
			if na == nil {
				na = map[[2]string]bool{}
			}
			na[[2]string{a.Feed, a.Name}] = true
		}
	}
	if na == nil {
		return as
	}
	out := make([]*vuln.Advisory, 0, len(as))
	for _, a := range as {
		if !na[[2]string{a.Feed, a.Name}] {
			out = append(out, a)
		}
	}
	return out
}

// Affected reports whether the installed version falls under the advisory,
// in the advisory's version scheme. Versions the scheme cannot parse in the
// advisory make that bound unusable: the range is skipped rather than guessed.
func Affected(installed version.Version, a *vuln.Advisory) bool {
	c := compile(a)
	return c.scheme != nil && c.affects(installed)
}

func vulnerability(a *vuln.Advisory, c *candidate) *vuln.Vulnerability {
	links := ""
	for i, l := range a.Links {
		if i > 0 {
			links += " "
		}
		links += l
	}
	state := "affected"
	if a.State != vuln.StateAffected {
		state = string(a.State)
	}
	return &vuln.Vulnerability{
		ID:                 vulnID(a),
		Updater:            a.Feed,
		Name:               a.Name,
		Description:        a.Description,
		Issued:             a.Issued,
		Links:              links,
		Severity:           a.Severity,
		NormalizedSeverity: a.NormalizedSeverity,
		Package:            &vuln.Package{Name: a.Package, Kind: vuln.KindSource},
		Distribution:       c.dist,
		Repository:         nil,
		FixedInVersion:     a.FixedIn,
		State:              state,
		Aliases:            a.Aliases,
	}
}

// vulnID is stable across runs so that reports diff cleanly and a
// vulnerability shared by several binaries of one source is one entry.
func vulnID(a *vuln.Advisory) string {
	h := sha256.New()
	for _, s := range []string{a.Feed, a.Namespace, a.Package, a.Name, a.FixedIn, string(a.State)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// distributionOf finds the distribution a package was found under: its
// environment's, or the image's only one.
func distributionOf(ir *vuln.IndexReport, pkgID string) *vuln.Distribution {
	for _, env := range ir.Environments[pkgID] {
		if d, ok := ir.Distributions[env.DistributionID]; ok {
			return d
		}
	}
	if len(ir.Distributions) == 1 {
		for _, d := range ir.Distributions {
			return d
		}
	}
	return nil
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
