package oval

import (
	"regexp"
	"strings"

	"github.com/openclair/clair/feed/internal/date"
	"github.com/openclair/clair/vuln"
)

var (
	cveRE      = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)
	advisoryRE = regexp.MustCompile(`^\s*([A-Z][A-Z0-9]*-\d{4}[-:]\d+)`)
)

// names returns the vulnerabilities a definition names, and its own
// advisory id ("" when that is a CVE).
func names(def *Definition) (cves []string, advisory string) {
	seen := map[string]bool{}
	add := func(s string) {
		for _, c := range cveRE.FindAllString(s, -1) {
			if !seen[c] {
				seen[c] = true
				cves = append(cves, c)
			}
		}
	}
	m := &def.Metadata
	for _, c := range m.Advisory.CVEs {
		add(c.ID)
	}
	for _, r := range m.References {
		if strings.Contains(strings.ToUpper(r.Source), "CVE") {
			add(r.RefID)
		}
	}
	if len(cves) == 0 {
		// Microsoft's and SUSE's titles are the CVE.
		if t := strings.TrimSpace(m.Title); strings.HasPrefix(t, "CVE-") {
			add(strings.Fields(t)[0])
		}
	}
	if a := advisoryRE.FindStringSubmatch(m.Title); a != nil && !cveRE.MatchString(a[1]) {
		advisory = a[1]
	}
	return cves, advisory
}

// NormalizeSeverity maps the vendors' severities to Clair's scale.
func NormalizeSeverity(s string) vuln.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return vuln.Critical
	case "important", "high":
		return vuln.High
	case "moderate", "medium":
		return vuln.Medium
	case "low":
		return vuln.Low
	case "none", "negligible":
		return vuln.Negligible
	}
	return vuln.Unknown
}

// maxDescription bounds the description stored per vulnerability: Oracle's
// are whole changelogs.
const maxDescription = 8 << 10

func (f *Feed) emit(def *Definition, stmts []statement, st *Stats, emit func(*vuln.Advisory) error) error {
	m := &def.Metadata
	cves, advID := names(def)
	ids := cves
	if len(ids) == 0 {
		id := advID
		if id == "" {
			id = strings.TrimSpace(def.ID)
		}
		if id == "" {
			st.note("definition without a name skipped")
			return nil
		}
		ids = []string{id}
	}
	sev := strings.TrimSpace(m.Advisory.Severity)
	if sev == "" {
		sev = strings.TrimSpace(m.Severity)
	}
	desc := strings.TrimSpace(m.Description)
	if len(desc) > maxDescription {
		desc = strings.ToValidUTF8(desc[:maxDescription], "") + "…"
	}
	var links []string
	seen := map[string]bool{}
	for _, r := range m.References {
		if u := strings.TrimSpace(r.RefURL); u != "" && !seen[u] {
			seen[u] = true
			links = append(links, u)
		}
	}
	issued := date.Parse(m.Advisory.Issued.Date)
	if issued.IsZero() {
		issued = date.Parse(m.AdvisoryDate)
	}
	patchable := strings.ToLower(strings.TrimSpace(m.Patchable))
	for _, s := range stmts {
		a := vuln.Advisory{
			Feed:               f.Name(),
			Namespace:          s.ns,
			Package:            s.name,
			VersionFormat:      "rpm",
			Arches:             s.arches,
			Severity:           sev,
			NormalizedSeverity: NormalizeSeverity(sev),
			Description:        desc,
			Links:              links,
			Issued:             issued,
		}
		switch {
		case s.notAffected || patchable == "not applicable":
			a.State = vuln.StateNotAffected
		case s.fixed != "":
			a.State = vuln.StateAffected
			a.Ranges = []vuln.Range{{Introduced: s.intro, Fixed: s.fixed}}
			a.FixedIn = s.fixed
		case s.last != "":
			a.State = vuln.StateAffected
			a.Ranges = []vuln.Range{{Introduced: s.intro, LastAffected: s.last}}
		case s.eq != "":
			a.State = vuln.StateAffected
			a.Versions = []string{s.eq}
		case s.intro != "":
			a.State = vuln.StateUnfixed
			a.Ranges = []vuln.Range{{Introduced: s.intro}}
		default:
			st.note("package test without a version bound skipped")
			continue
		}
		if patchable == "false" && s.fixed == "" && a.State == vuln.StateAffected {
			// "No patch is available currently": the bound is the
			// version known affected, not a fix.
			a.State = vuln.StateUnfixed
		}
		for _, id := range ids {
			cp := a
			cp.Name = id
			if advID != "" && advID != id {
				cp.Aliases = []string{advID}
			}
			if err := emit(&cp); err != nil {
				return err
			}
			st.Advisories++
		}
	}
	return nil
}
