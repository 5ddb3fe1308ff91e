package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// record is the part of an OSV record this feed reads.
type record struct {
	ID               string     `json:"id"`
	Summary          string     `json:"summary"`
	Details          string     `json:"details"`
	Aliases          []string   `json:"aliases"`
	Published        string     `json:"published"`
	Withdrawn        string     `json:"withdrawn"`
	Severity         []severity `json:"severity"`
	Affected         []affected `json:"affected"`
	DatabaseSpecific struct {
		Severity json.RawMessage `json:"severity"`
	} `json:"database_specific"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Ranges []struct {
		Type   string  `json:"type"`
		Events []event `json:"events"`
	} `json:"ranges"`
	Versions []string `json:"versions"`
}

type event struct {
	Introduced   string `json:"introduced"`
	Fixed        string `json:"fixed"`
	LastAffected string `json:"last_affected"`
	Limit        string `json:"limit"`
}

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
	var shared *vuln.Advisory // fields every advisory of the record shares
	for i := range r.Affected {
		af := &r.Affected[i]
		osvEco, _, _ := strings.Cut(af.Package.Ecosystem, ":") // "Maven:<repository>"
		eco, ok := lookupEcosystem(osvEco)
		if !ok || !ar.any && eco != ar.eco {
			// Another ecosystem's entry: its own zip holds the record too.
			continue
		}
		if af.Package.Name == "" {
			return nil, fmt.Errorf("osv: %s (%s): affected[%d]: package.name is empty", name, r.ID, i)
		}
		pkg := af.Package.Name
		if eco.Namespace == "pypi" {
			pkg = normalizePyPI(pkg)
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
		if shared == nil {
			shared = common(r, issued)
		}
		var a *vuln.Advisory
		for _, o := range out {
			if o.Namespace == eco.Namespace && o.Package == pkg {
				a = o // a second entry of the same package: merge
				break
			}
		}
		if a == nil {
			a = &vuln.Advisory{
				Name:               shared.Name,
				Namespace:          eco.Namespace,
				Package:            pkg,
				VersionFormat:      eco.VersionFormat,
				Severity:           shared.Severity,
				NormalizedSeverity: shared.NormalizedSeverity,
				Description:        shared.Description,
				Links:              shared.Links,
				Issued:             shared.Issued,
				Aliases:            shared.Aliases,
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
func common(r *record, issued time.Time) *vuln.Advisory {
	name := r.ID
	var cves []string
	for _, a := range r.Aliases {
		if strings.HasPrefix(a, "CVE-") && !slices.Contains(cves, a) {
			cves = append(cves, a)
		}
	}
	if len(cves) == 1 {
		name = cves[0]
	}
	aliases := []string{}
	for _, a := range append([]string{r.ID}, r.Aliases...) {
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

// normalize maps GHSA's severity words to Clair's scale.
func normalize(s string) vuln.Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LOW":
		return vuln.Low
	case "MODERATE", "MEDIUM":
		return vuln.Medium
	case "HIGH":
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

// goVersion gives an OSV Go version the "v" of Go module versions.
func goVersion(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

// normalizePyPI is PEP 503's name normalization: lowercase, and every run of
// "-", "_" and "." becomes one "-".
func normalizePyPI(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}
