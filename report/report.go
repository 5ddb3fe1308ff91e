// Package report writes vulnerability reports for people (table, html) and
// for programs (Clair's JSON, SARIF 2.1.0, CycloneDX 1.6, SPDX 2.3, the
// cosign vulnerability predicate, a user's text/template).
//
// What the CLI and the server call:
//
//   - WriteDocument(w, format, d) for every name in Formats; "template"
//     reads d.Template (the --template FILE). Each format lists
//     d.Suppressed apart, with its reason.
//   - WriteSBOM(w, format, ir, image) for `clairctl sbom`: the packages
//     alone, "cyclonedx" or "spdx" (SBOMFormats), no feeds needed.
//   - ContentType(format) for HTTP answers, and FormatForMediaType to pick
//     a format from an Accept header.
//   - HTML is safe to serve: one self-contained page, no network.
//
// Rendering errors are returned before anything is written for the
// template format (a failing template writes nothing); the others encode
// in one pass from data already in memory.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/reportjson"
	"github.com/openclair/clair/vuln"
)

// Formats lists the output formats Write knows.
var Formats = []string{"table", "json", "html", "sarif", "cyclonedx", "spdx", "cosign-vuln", "template"}

// Document is what every format renders: the report, and what the CLI's or
// server's gates made of it. Suppressed findings are never dropped silently:
// each format lists them apart, with their reason.
type Document struct {
	Report *vuln.VulnerabilityReport
	// Image is the reference the user gave (for titles and SBOM names);
	// it may be empty.
	Image string
	// Suppressed are the findings an ignore file or a VEX statement took
	// out of Report, with why.
	Suppressed []Suppressed
	// Warnings are what the reader must know to trust the result (a
	// distribution without a feed, a feed that could not be updated).
	Warnings []string
	// Template is the text/template file the "template" format renders
	// (--template FILE).
	Template string
	// Started is when the scan began (SBOM timestamps, the cosign
	// predicate's scanStartedOn); zero means the time of rendering.
	Started time.Time
}

// Suppressed is one (package, vulnerability) finding taken out of a report.
type Suppressed struct {
	Package       *vuln.Package       `json:"package"`
	Vulnerability *vuln.Vulnerability `json:"vulnerability"`
	// Reason is the ignore entry's reason, or the VEX justification.
	Reason string `json:"reason"`
	// Source names where the suppression came from: "ignore-file PATH" or
	// "vex PATH".
	Source string `json:"source"`
}

// Write renders vr in the named format.
func Write(w io.Writer, format string, vr *vuln.VulnerabilityReport) error {
	return WriteDocument(w, format, &Document{Report: vr})
}

// WriteDocument renders d in the named format.
func WriteDocument(w io.Writer, format string, d *Document) error {
	switch format {
	case "json":
		return DocumentJSON(w, d)
	case "table", "":
		if err := Table(w, d.Report); err != nil {
			return err
		}
		return Notes(w, d)
	case "html":
		return HTML(w, d)
	case "sarif":
		return SARIF(w, d)
	case "cyclonedx":
		return CycloneDX(w, d)
	case "spdx":
		return SPDX(w, d)
	case "cosign-vuln":
		return CosignVuln(w, d)
	case "template":
		return Template(w, d.Template, d)
	}
	return fmt.Errorf("report: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// JSON writes Clair's vulnerability report JSON.
func JSON(w io.Writer, vr *vuln.VulnerabilityReport) error {
	ind := newIndenter(w)
	if err := reportjson.Encode(ind, vr); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	if err := ind.Close(); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}

// Row is one (package, vulnerability) pair of a report.
type Row struct {
	Package   *vuln.Package
	Vuln      *vuln.Vulnerability
	Installed string
	FixedIn   string // "unfixed" when there is no fix
	// CVSS is the base score of the report's clair.cvss enrichment, EPSS
	// the highest EPSS percentile (0..1) of its CVEs, KEV its CISA KEV
	// entry; HasCVSS and HasEPSS tell a zero from none.
	CVSS, EPSS       float64
	HasCVSS, HasEPSS bool
	// nameRank is Package.Name's place among the report's package names,
	// for Rows' sort: 10,000 rows share a few hundred names, and comparing
	// them was most of the sort.
	nameRank int32
	KEV      *vuln.KEV
}

// Rows flattens the report into (package, vulnerability) pairs, distribution
// and language packages together, in one order: most severe first, then
// those in CISA's KEV catalog, then by EPSS percentile (highest first), then
// by package and vulnerability name, version, path and package id.
func Rows(vr *vuln.VulnerabilityReport) []Row { return rows(vr, readEnrichments(vr)) }

// rows is Rows with the report's enrichments read.
func rows(vr *vuln.VulnerabilityReport, en enrichments) []Row {
	n := 0
	for _, vids := range vr.PackageVulnerabilities {
		n += len(vids)
	}
	rows := make([]Row, 0, n)
	names := make([]string, 0, len(vr.PackageVulnerabilities))
	for pid := range vr.PackageVulnerabilities {
		if p := vr.Packages[pid]; p != nil {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for pid, vids := range vr.PackageVulnerabilities {
		p := vr.Packages[pid]
		if p == nil {
			continue
		}
		rank, _ := slices.BinarySearch(names, p.Name)
		for _, vid := range vids {
			v := vr.Vulnerabilities[vid]
			if v == nil {
				continue
			}
			fixed := v.FixedInVersion
			if fixed == "" {
				fixed = "unfixed"
				if v.State == string(vuln.StateWontFix) {
					fixed = "will not fix"
				}
			}
			r := Row{Package: p, Vuln: v, Installed: p.Version, FixedIn: fixed, nameRank: int32(rank)}
			en.fill(&r)
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b Row) int {
		if a.Vuln.NormalizedSeverity != b.Vuln.NormalizedSeverity {
			return cmp.Compare(b.Vuln.NormalizedSeverity, a.Vuln.NormalizedSeverity)
		}
		if (a.KEV != nil) != (b.KEV != nil) {
			if a.KEV != nil {
				return -1
			}
			return 1
		}
		if a.HasEPSS != b.HasEPSS || a.EPSS != b.EPSS {
			if a.EPSS > b.EPSS || (a.EPSS == b.EPSS && a.HasEPSS) {
				return -1
			}
			return 1
		}
		if a.nameRank != b.nameRank {
			return cmp.Compare(a.nameRank, b.nameRank)
		}
		if c := strings.Compare(a.Vuln.Name, b.Vuln.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.Installed, b.Installed); c != 0 {
			return c
		}
		// The same package found twice (one jar under two names) would
		// otherwise come out in map order.
		if c := strings.Compare(a.Package.Path, b.Package.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Package.ID, b.Package.ID)
	})
	return rows
}

// Table writes one row per package and vulnerability, in Rows' order
// (distribution and language packages together), and a summary line. Each
// row shows the CVSS base score, the EPSS percentile and whether the CVE is
// in CISA's KEV catalog, and where the package was found: its package
// database for distribution packages, the ecosystem and place (a Go binary,
// a site-packages folder, a jar, a lock file) for language packages. A
// severity taken from CVSS, the distribution having none, is marked so.
func Table(w io.Writer, vr *vuln.VulnerabilityReport) error {
	rows := Rows(vr)
	header := []string{"PACKAGE", "INSTALLED", "VULNERABILITY", "SEVERITY", "CVSS", "EPSS", "KEV", "FIXED IN", "FOUND IN"}
	err := writeColumns(w, len(header), len(rows)+1, func(i int, cells []string) {
		if i == 0 {
			copy(cells, header)
			return
		}
		r := &rows[i-1]
		cells[0], cells[1], cells[2] = r.Package.Name, r.Installed, r.Vuln.Name
		cells[3], cells[4], cells[5], cells[6] = severityCell(r.Vuln), cvssCell(*r), epssCell(*r), kevCell(*r)
		cells[7], cells[8] = r.FixedIn, Where(r.Package)
	})
	if err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	_, err = fmt.Fprintln(w, Summary(vr, rows))
	return err
}

// Where is the FOUND IN column: "ecosystem: place" for a language package
// (Location), the package database for a distribution package.
func Where(p *vuln.Package) string {
	if loc := Location(p); loc != "" {
		return p.Ecosystem + ": " + loc
	}
	if p.PackageDB != "" {
		return p.PackageDB
	}
	return p.Ecosystem
}

func severityCell(v *vuln.Vulnerability) string {
	if strings.HasPrefix(v.SeveritySource, "cvss:") {
		return v.NormalizedSeverity.String() + " (CVSS)"
	}
	return v.NormalizedSeverity.String()
}

func cvssCell(r Row) string {
	if !r.HasCVSS {
		return "-"
	}
	return strconv.FormatFloat(r.CVSS, 'f', 1, 64)
}

func epssCell(r Row) string {
	if !r.HasEPSS {
		return "-"
	}
	return strconv.FormatFloat(r.EPSS*100, 'f', 1, 64) + "%"
}

func kevCell(r Row) string {
	switch {
	case r.KEV == nil:
		return "-"
	case strings.EqualFold(r.KEV.KnownRansomwareCampaignUse, "Known"):
		return "yes, ransomware"
	}
	return "yes"
}

// Location is where a language package was found, at the grain people
// think of: the binary, the site-packages folder, the node_modules tree,
// the outer jar, the gems folder, the lock file. It is "" for
// distribution packages.
func Location(p *vuln.Package) string {
	if p == nil || !vuln.IsLanguage(p.Ecosystem) || p.Path == "" {
		return ""
	}
	path := p.Path
	if i := strings.IndexByte(path, '!'); i >= 0 { // inside a jar
		path = path[:i]
	}
	if i := strings.Index("/"+path, "/node_modules/"); i >= 0 {
		return strings.TrimPrefix(("/" + path)[:i]+"/node_modules", "/")
	}
	for _, marker := range []string{".dist-info/", ".egg-info/", ".egg-info"} {
		if i := strings.Index(path, marker); i >= 0 {
			if j := strings.LastIndexByte(path[:i], '/'); j >= 0 {
				return path[:j]
			}
			return "."
		}
	}
	if i := strings.Index(path, "/specifications/"); i >= 0 {
		return path[:i]
	}
	return path
}

// Summary is the one-line digest of a report: counts by severity, affected
// packages, and unfixed findings.
func Summary(vr *vuln.VulnerabilityReport, rows []Row) string {
	counts := map[vuln.Severity]int{}
	pkgs := map[string]bool{}
	unfixed := 0
	for _, r := range rows {
		counts[r.Vuln.NormalizedSeverity]++
		pkgs[r.Package.ID] = true
		if r.Vuln.FixedInVersion == "" {
			unfixed++
		}
	}
	var parts []string
	for s := vuln.Critical; s >= vuln.Unknown; s-- {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", s, counts[s]))
		}
	}
	by := ""
	if len(parts) > 0 {
		by = " (" + strings.Join(parts, ", ") + ")"
	}
	var dists []string
	for _, d := range vr.Distributions {
		if d.PrettyName != "" {
			dists = append(dists, d.PrettyName)
		} else {
			dists = append(dists, strings.TrimSpace(d.DID+" "+d.VersionID))
		}
	}
	sort.Strings(dists)
	on := ""
	if len(dists) > 0 {
		on = ", " + strings.Join(dists, ", ")
	}
	return fmt.Sprintf("Total: %d %s%s in %d of %d %s, %d unfixed%s",
		len(rows), pluralWord(len(rows), "vulnerability"), by, len(pkgs), len(vr.Packages), pluralWord(len(vr.Packages), "package"), unfixed, on)
}
