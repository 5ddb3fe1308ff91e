// Package gate decides what a pipeline sees of a vulnerability report and
// whether it passes: severity filters (--severity, --min-severity,
// --ignore-unfixed), the fail-on gate (a severity, or "kev" for findings in
// CISA's Known Exploited Vulnerabilities catalog) and the exit code.
package gate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/openclair/clair/vuln"
)

// Exit codes: a pipeline reads them, so each means one thing only.
const (
	// ExitClean: the command completed and no finding met the gate (or no
	// gate was asked for).
	ExitClean = 0
	// ExitFindings: at least one finding is at or above --fail-on.
	ExitFindings = 1
	// ExitError: the command could not complete (bad flags, unreadable
	// image, unreachable server, malformed ignore or VEX file, ...).
	ExitError = 2
	// ExitMissingData: --fail-on was given but there was nothing to judge
	// the image by (a distribution no feed covers, no packages at all): a
	// gate must not pass on no data.
	ExitMissingData = 3
)

// KEVEnrichment is the report enrichment key under which the KEV feed puts
// catalog entries (claircore's kev enricher key).
const KEVEnrichment = `message/vnd.clair.map.vulnerability; enricher=clair.kev schema=none`

// ParseSeverities reads a comma-separated list of severity names
// (case-insensitive): "High,Critical".
func ParseSeverities(list string) ([]vuln.Severity, error) {
	var out []vuln.Severity
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		s, err := parseSeverity(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("gate: empty severity list (want some of %s)", severityNames())
	}
	return out, nil
}

func parseSeverity(s string) (vuln.Severity, error) {
	v, err := vuln.ParseSeverity(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("gate: unknown severity %q (want one of %s)", s, severityNames())
	}
	return v, nil
}

// ParseSeverity reads one severity name, case-insensitively.
func ParseSeverity(s string) (vuln.Severity, error) { return parseSeverity(s) }

func severityNames() string {
	var n []string
	for s := vuln.Unknown; s <= vuln.Critical; s++ {
		n = append(n, s.String())
	}
	return strings.Join(n, ", ")
}

// Filter says which findings a report shows. The zero Filter shows all.
type Filter struct {
	// Severities, when set, are the only severities shown (--severity).
	Severities []vuln.Severity
	// MinSeverity, when HasMin, hides findings below it (--min-severity).
	MinSeverity vuln.Severity
	HasMin      bool
	// IgnoreUnfixed hides findings with no fixed version.
	IgnoreUnfixed bool
}

// Shows reports whether v passes the filter.
func (f Filter) Shows(v *vuln.Vulnerability) bool {
	if f.HasMin && v.NormalizedSeverity < f.MinSeverity {
		return false
	}
	if len(f.Severities) > 0 {
		ok := false
		for _, s := range f.Severities {
			ok = ok || s == v.NormalizedSeverity
		}
		if !ok {
			return false
		}
	}
	if f.IgnoreUnfixed && v.FixedInVersion == "" {
		return false
	}
	return true
}

// Apply returns a copy of vr holding only the findings f shows; packages
// and everything else stay (a report lists every package).
func (f Filter) Apply(vr *vuln.VulnerabilityReport) *vuln.VulnerabilityReport {
	return Keep(vr, func(_ *vuln.Package, v *vuln.Vulnerability) bool { return f.Shows(v) })
}

// Keep returns a shallow copy of vr whose package_vulnerabilities hold only
// the pairs keep accepts; vulnerabilities no package refers to any more are
// left out. vr is not modified. keep sees the pairs in one order (package
// ids sorted), so that what a caller gathers from it (suppress's list of
// suppressed findings) comes out the same on every run. When keep accepts
// every pair of a report without loose ends (the usual case: no filter, no
// suppression), the copy shares vr's maps rather than rebuilding them (a
// megabyte and a millisecond for a 10,000-pair report): both are then
// read-only.
func Keep(vr *vuln.VulnerabilityReport, keep func(*vuln.Package, *vuln.Vulnerability) bool) *vuln.VulnerabilityReport {
	pids := slices.Sorted(maps.Keys(vr.PackageVulnerabilities))
	n := 0
	for _, vids := range vr.PackageVulnerabilities {
		n += len(vids)
	}
	// keep is called once per pair, in order; the maps are built only
	// when its answers change the report.
	kept := make([]bool, 0, n)
	all := true
	for _, pid := range pids {
		vids := vr.PackageVulnerabilities[pid]
		all = all && len(vids) > 0
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			k := v != nil && keep(vr.Packages[pid], v)
			kept = append(kept, k)
			all = all && k
		}
	}
	out := *vr
	if all && referencesAll(vr) {
		return &out
	}
	out.PackageVulnerabilities = map[string][]string{}
	out.Vulnerabilities = map[string]*vuln.Vulnerability{}
	i := 0
	for _, pid := range pids {
		var ids []string
		for _, vid := range vr.PackageVulnerabilities[pid] {
			if kept[i] {
				ids = append(ids, vid)
				out.Vulnerabilities[vid] = vr.Vulnerabilities[vid]
			}
			i++
		}
		if len(ids) > 0 {
			out.PackageVulnerabilities[pid] = ids
		}
	}
	return &out
}

// referencesAll reports whether every vulnerability of vr is referred to
// by some package, and by one id only.
func referencesAll(vr *vuln.VulnerabilityReport) bool {
	seen := make(map[*vuln.Vulnerability]struct{}, len(vr.Vulnerabilities))
	for _, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			seen[vr.Vulnerabilities[vid]] = struct{}{}
		}
	}
	return len(seen) == len(vr.Vulnerabilities)
}

// FailOn is the gate: which findings fail the pipeline. The zero FailOn
// fails on nothing.
type FailOn struct {
	Severity vuln.Severity
	// HasSeverity: findings at or above Severity fail.
	HasSeverity bool
	// KEV: findings in CISA's Known Exploited Vulnerabilities catalog fail.
	KEV bool
}

// Set reports whether any gate was asked for.
func (f FailOn) Set() bool { return f.HasSeverity || f.KEV }

// ParseFailOn reads --fail-on: a severity ("High": High and Critical
// fail), "kev", or both comma-separated ("High,kev": either fails).
func ParseFailOn(s string) (FailOn, error) {
	var f FailOn
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case strings.EqualFold(p, "kev"):
			f.KEV = true
		default:
			sev, err := parseSeverity(p)
			if err != nil {
				return FailOn{}, fmt.Errorf("gate: --fail-on %q: want a severity (%s) or kev", s, severityNames())
			}
			if f.HasSeverity {
				return FailOn{}, fmt.Errorf("gate: --fail-on %q: more than one severity", s)
			}
			f.Severity, f.HasSeverity = sev, true
		}
	}
	if !f.Set() {
		return FailOn{}, fmt.Errorf("gate: --fail-on %q: want a severity (%s) or kev", s, severityNames())
	}
	return f, nil
}

// String is the gate as a person reads it.
func (f FailOn) String() string {
	var p []string
	if f.HasSeverity {
		p = append(p, f.Severity.String()+" or above")
	}
	if f.KEV {
		p = append(p, "in CISA KEV")
	}
	return strings.Join(p, " or ")
}

// Finding is one (package, vulnerability) pair that failed the gate.
type Finding struct {
	Package       *vuln.Package
	Vulnerability *vuln.Vulnerability
}

// Failing lists the findings of vr the gate fails on.
func (f FailOn) Failing(vr *vuln.VulnerabilityReport) []Finding {
	if !f.Set() {
		return nil
	}
	kev := map[string]bool{}
	if f.KEV {
		kev = KEVIDs(vr)
	}
	var out []Finding
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			if v == nil {
				continue
			}
			hit := f.HasSeverity && v.NormalizedSeverity >= f.Severity
			if f.KEV && (kev[vid] || kev[strings.ToUpper(v.Name)] || anyAlias(kev, v.Aliases)) {
				hit = true
			}
			if hit {
				out = append(out, Finding{Package: vr.Packages[pid], Vulnerability: v})
			}
		}
	}
	return out
}

func anyAlias(set map[string]bool, aliases []string) bool {
	for _, a := range aliases {
		if set[strings.ToUpper(a)] {
			return true
		}
	}
	return false
}

// KEVIDs reads the KEV enrichment of vr: the report's vulnerability ids
// that have an entry, and the CVE ids the entries name (upper case). A
// report without the enrichment gives an empty set.
func KEVIDs(vr *vuln.VulnerabilityReport) map[string]bool {
	out := map[string]bool{}
	for _, e := range vr.Enrichments[KEVEnrichment] {
		// Each element is an object keyed by vulnerability id; decoded
		// from JSON it is a map, built in process it may be any struct:
		// a JSON round trip reads both.
		b, err := json.Marshal(e)
		if err != nil {
			continue
		}
		var m map[string][]struct {
			CVE string `json:"cve"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		for vid, entries := range m {
			if len(entries) == 0 {
				continue
			}
			out[vid] = true
			for _, en := range entries {
				if en.CVE != "" {
					out[strings.ToUpper(en.CVE)] = true
				}
			}
		}
	}
	return out
}
