package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"

	"github.com/openclair/clair/feed/internal/osvschema"
	"github.com/openclair/clair/internal/pep503"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// The OSV record types, shared with the other OSV reader.
type (
	record = osvschema.Record
	event  = osvschema.Event
)

func decode(name string, b []byte) (*record, error) {
	r := new(record)
	if err := json.Unmarshal(b, r); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("osv: %s: offset %d: %w", name, se.Offset, err)
		}
		return nil, fmt.Errorf("osv: %s: %w", name, err)
	}
	if r.ID == "" {
		return nil, fmt.Errorf("osv: %s: id is empty", name)
	}
	return r, nil
}

// convert returns the advisories of the record's affected entries that
// belong to ar's ecosystem, one per package (entries of the same package
// are merged). Withdrawn records give none.
func convert(name string, r *record, ar *archive) ([]*vuln.Advisory, error) {
	if r.Withdrawn != "" {
		return nil, nil
	}
	var issued time.Time
	if r.Published != "" {
		t, err := time.Parse(time.RFC3339, r.Published)
		if err != nil {
			return nil, fmt.Errorf("osv: %s (%s): published: %w", name, r.ID, err)
		}
		issued = t
	}
	var out []*vuln.Advisory
	// Fields every advisory of the record shares: [0] for language
	// ecosystems, [1] for distributions, which name CVEs differently.
	var shared [2]*vuln.Advisory
	for i := range r.Affected {
		af := &r.Affected[i]
		osvEco, suffix, _ := strings.Cut(af.Package.Ecosystem, ":") // "Maven:<repository>", "Rocky Linux:9"
		eco, ok := lookupEcosystem(osvEco)
		if !ok || !ar.any && eco != ar.eco {
			// Another ecosystem's entry: its own zip holds the record too.
			continue
		}
		ns := eco.Namespace
		if eco.Distribution {
			if !security(r) {
				continue // a bug fix or enhancement erratum: no vulnerability
			}
			major, ok := release(suffix)
			if !ok {
				continue // no release: no namespace an image could have
			}
			ns += ":" + major
		}
		if af.Package.Name == "" {
			return nil, fmt.Errorf("osv: %s (%s): affected[%d]: package.name is empty", name, r.ID, i)
		}
		pkg := af.Package.Name
		if eco.Namespace == "pypi" {
			pkg = pep503.Normalize(pkg)
		}
		fix := func(v string) string { return v }
		if eco.Namespace == "go" {
			fix = goVersion
		}
		var rs []vuln.Range
		for _, rg := range af.Ranges {
			if rg.Type != "SEMVER" && rg.Type != "ECOSYSTEM" {
				continue // GIT: commits say nothing about package versions
			}
			for _, rr := range ranges(rg.Events) {
				rr.Introduced, rr.Fixed, rr.LastAffected = fix(rr.Introduced), fix(rr.Fixed), fix(rr.LastAffected)
				rs = append(rs, rr)
			}
		}
		vs := make([]string, 0, len(af.Versions))
		seen := make(map[string]struct{}, len(af.Versions))
		for _, v := range af.Versions {
			if v == "" {
				continue
			}
			v = fix(v)
			if _, dup := seen[v]; !dup {
				seen[v] = struct{}{}
				vs = append(vs, v)
			}
		}
		if len(rs) == 0 && len(vs) == 0 {
			continue // no usable statement
		}
		si := 0
		if eco.Distribution {
			si = 1
		}
		if shared[si] == nil {
			shared[si] = common(r, issued, eco.Distribution)
		}
		sh := shared[si]
		module := ""
		if eco.Distribution && modular(rs, vs) {
			module = moduleOf(r.Summary)
		}
		var a *vuln.Advisory
		for _, o := range out {
			if o.Namespace == ns && o.Package == pkg && o.Module == module {
				a = o // a second entry of the same package: merge
				break
			}
		}
		if a == nil {
			a = &vuln.Advisory{
				Name:               sh.Name,
				Namespace:          ns,
				Package:            pkg,
				VersionFormat:      eco.VersionFormat,
				Module:             module,
				Severity:           sh.Severity,
				NormalizedSeverity: sh.NormalizedSeverity,
				Description:        sh.Description,
				Links:              sh.Links,
				Issued:             sh.Issued,
				Aliases:            sh.Aliases,
			}
			out = append(out, a)
		}
		for _, rr := range rs {
			if !slices.Contains(a.Ranges, rr) {
				a.Ranges = append(a.Ranges, rr)
			}
		}
		if a.Versions == nil {
			a.Versions = vs
		} else {
			// A second entry of the package: merge, keeping the order.
			have := make(map[string]struct{}, len(a.Versions))
			for _, v := range a.Versions {
				have[v] = struct{}{}
			}
			for _, v := range vs {
				if _, dup := have[v]; !dup {
					a.Versions = append(a.Versions, v)
				}
			}
		}
	}
	for _, a := range out {
		if len(a.Versions) == 0 {
			a.Versions = nil
		} else {
			a.Versions = slices.Clip(a.Versions)
		}
		finish(a)
	}
	return out, nil
}

// finish sets State and FixedIn from the ranges.
func finish(a *vuln.Advisory) {
	bounded := false
	var fixes []string
	for _, rr := range a.Ranges {
		if rr.Fixed != "" {
			fixes = append(fixes, rr.Fixed)
		}
		if rr.Fixed != "" || rr.LastAffected != "" {
			bounded = true
		}
	}
	a.FixedIn = lowest(a.VersionFormat, fixes)
	switch {
	case bounded, len(a.Ranges) == 0: // only an explicit list of versions
		a.State = vuln.StateAffected
	default:
		a.State = vuln.StateUnfixed
	}
	if len(a.Ranges) == 1 && a.Ranges[0] == (vuln.Range{}) && a.State == vuln.StateUnfixed {
		a.Ranges = nil // every version: the state says it
	}
}

// lowest returns the least of versions in the scheme, or the first when the
// scheme is unknown or cannot parse them all.
func lowest(format string, versions []string) string {
	if len(versions) == 0 {
		return ""
	}
	s, ok := version.Lookup(format)
	if !ok {
		return versions[0]
	}
	var min version.Version
	for _, v := range versions {
		pv, err := s.Parse(v)
		if err != nil {
			return versions[0]
		}
		if min == nil || pv.Compare(min) < 0 {
			min = pv
		}
	}
	return min.String()
}

// common builds the per-record fields every advisory of it shares. The
// slices are clipped so that an append by a consumer copies instead of
// writing into a neighbour's slice.
//
// A distribution's erratum (RLSA-, ALSA-) lists the CVEs it fixes under
// "related" (or "upstream"), not "aliases": for distribution advisories
// (distro) those CVEs count as aliases do. Language records' "related"
// ids are other vulnerabilities and are left out.
func common(r *record, issued time.Time, distro bool) *vuln.Advisory {
	ids := r.Aliases
	if distro {
		ids = slices.Clone(r.Aliases)
		for _, id := range append(slices.Clip(r.Related), r.Upstream...) {
			if strings.HasPrefix(id, "CVE-") {
				ids = append(ids, id)
			}
		}
	}
	name := r.ID
	var cves []string
	for _, a := range ids {
		if strings.HasPrefix(a, "CVE-") && !slices.Contains(cves, a) {
			cves = append(cves, a)
		}
	}
	if len(cves) == 1 {
		name = cves[0]
	}
	aliases := []string{}
	for _, a := range append([]string{r.ID}, ids...) {
		if a != "" && a != name && !slices.Contains(aliases, a) {
			aliases = append(aliases, a)
		}
	}
	var links []string
	for _, ref := range r.References {
		if ref.URL != "" && !slices.Contains(links, ref.URL) {
			links = append(links, ref.URL)
		}
	}
	desc := r.Details
	if desc == "" {
		desc = r.Summary
	}
	sev, norm := "", vuln.Unknown
	var word string
	if json.Unmarshal(r.DatabaseSpecific.Severity, &word) == nil && word != "" {
		sev, norm = word, normalize(word)
	} else if w := impact(r.Summary); distro && w != "" {
		sev, norm = w, normalize(w)
	} else {
		for _, s := range r.Severity {
			if strings.HasPrefix(s.Type, "CVSS_") && s.Score != "" {
				sev = s.Score
				break
			}
		}
	}
	return &vuln.Advisory{
		Name:               name,
		Severity:           sev,
		NormalizedSeverity: norm,
		Description:        desc,
		Links:              slices.Clip(links),
		Issued:             issued,
		Aliases:            slices.Clip(aliases),
	}
}

// normalize maps GHSA's severity words, and Red Hat's impact words that
// Rocky Linux and AlmaLinux errata carry, to Clair's scale.
func normalize(s string) vuln.Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LOW":
		return vuln.Low
	case "MODERATE", "MEDIUM":
		return vuln.Medium
	case "HIGH", "IMPORTANT":
		return vuln.High
	case "CRITICAL":
		return vuln.Critical
	}
	return vuln.Unknown
}

// ranges turns OSV events into ranges: each "introduced" opens one, the next
// "fixed", "limit" or "last_affected" closes it; "introduced": "0" is the
// beginning of time.
func ranges(evs []event) []vuln.Range {
	var out []vuln.Range
	var cur *vuln.Range
	for _, e := range evs {
		switch {
		case e.Introduced != "":
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &vuln.Range{}
			if e.Introduced != "0" {
				cur.Introduced = e.Introduced
			}
		case e.Fixed != "", e.Limit != "", e.LastAffected != "":
			if cur == nil {
				cur = &vuln.Range{}
			}
			switch {
			case e.Fixed != "":
				cur.Fixed = e.Fixed
			case e.Limit != "":
				cur.Fixed = e.Limit
			default:
				cur.LastAffected = e.LastAffected
			}
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// impact returns the Red Hat impact word an erratum's summary starts with
// ("Important: firefox security update"), "" when there is none.
func impact(summary string) string {
	w, _, ok := strings.Cut(summary, ": ")
	if !ok {
		return ""
	}
	switch strings.ToLower(w) {
	case "low", "moderate", "important", "critical":
		return w
	}
	return ""
}

// security reports whether a distribution's erratum is about
// vulnerabilities: a security advisory (RLSA-, ALSA-) or one that names a
// CVE. Bug fix and enhancement errata (ALBA-, ALEA-, RLBA-, RLEA-) without
// a CVE only say that an update exists.
func security(r *record) bool {
	prefix, _, _ := strings.Cut(r.ID, "-")
	if strings.HasSuffix(prefix, "SA") {
		return true
	}
	for _, ids := range [][]string{r.Aliases, r.Related, r.Upstream} {
		if slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "CVE-") }) {
			return true
		}
	}
	return false
}

// release returns the major release of a distribution ecosystem's suffix
// ("9" of "Rocky Linux:9", "8" of "AlmaLinux:8.10"); ok is false when it is
// not a number.
func release(suffix string) (major string, ok bool) {
	major, _, _ = strings.Cut(strings.TrimSpace(suffix), ".")
	if major == "" {
		return "", false
	}
	for i := 0; i < len(major); i++ {
		if major[i] < '0' || major[i] > '9' {
			return "", false
		}
	}
	return major, true
}

// modular reports whether an entry's versions are builds of a module stream:
// their release carries the ".module+el9.4.0+…" (Rocky Linux) or
// ".module_el8.8.0+…" (AlmaLinux) tag.
func modular(rs []vuln.Range, vs []string) bool {
	is := func(v string) bool {
		return strings.Contains(v, ".module+") || strings.Contains(v, ".module_")
	}
	for _, r := range rs {
		if is(r.Introduced) || is(r.Fixed) || is(r.LastAffected) {
			return true
		}
	}
	return slices.ContainsFunc(vs, is)
}

// moduleOf returns the module stream an erratum's summary names, as Red
// Hat's synopses do ("Moderate: ruby:3.3 security update" → "ruby:3.3"),
// when it names exactly one; "" otherwise. OSV records carry no other
// trace of the stream.
func moduleOf(summary string) string {
	_, rest, ok := strings.Cut(summary, ": ")
	if !ok {
		rest = summary
	}
	found := ""
	for _, f := range strings.Fields(rest) {
		f = strings.TrimRight(f, ",;")
		n, s, ok := strings.Cut(f, ":")
		if !ok || !streamWord(n) || !streamWord(s) {
			continue
		}
		if found != "" && found != f {
			return "" // several streams: which package is in which is unknown
		}
		found = f
	}
	return found
}

// streamWord reports whether s can be a module or stream name: letters,
// digits, ".", "_", "+" and "-", starting with a letter or digit.
func streamWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '+' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// goVersion reads an OSV Go version as a Go module version: it gets the
// "v" OSV omits, and the leading zeros GHSA copies from projects' own
// version numbers ("19.03.0" of github.com/docker/docker, whose module
// versions are v19.3.0+incompatible…) are dropped, so that the range is
// compared instead of skipped as unparsable. Build metadata
// ("+incompatible") is kept; comparisons ignore it. A version that stays
// invalid is returned with its "v" and the matcher skips its range.
func goVersion(v string) string {
	if v == "" || v == "0" {
		return v
	}
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if semver.IsValid(v) {
		return v
	}
	core, rest := v[1:], ""
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core, rest = core[:i], core[i:]
	}
	parts := strings.Split(core, ".")
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return v
		}
		if t := strings.TrimLeft(p, "0"); t != "" {
			parts[i] = t
		} else {
			parts[i] = "0"
		}
	}
	if c := "v" + strings.Join(parts, ".") + rest; semver.IsValid(c) {
		return c
	}
	return v
}
