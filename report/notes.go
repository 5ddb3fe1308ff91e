package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/openclair/clair/vuln"
)

// DocumentJSON writes Clair's vulnerability report JSON with two additive
// fields: "suppressed" (the findings an ignore file or VEX took out, with
// why) and "warnings" (what the reader must know to trust the result).
// Both are left out when empty, so a plain report is byte for byte Clair's.
func DocumentJSON(w io.Writer, d *Document) error {
	if len(d.Suppressed) == 0 && len(d.Warnings) == 0 {
		return JSON(w, d.Report)
	}
	out := struct {
		*vuln.VulnerabilityReport
		Suppressed []Suppressed `json:"suppressed,omitempty"`
		Warnings   []string     `json:"warnings,omitempty"`
	}{d.Report, d.Suppressed, d.Warnings}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}

// Notes writes, after a table, the suppressed findings apart with their
// reason and source, a count of them, and the warnings.
func Notes(w io.Writer, d *Document) error {
	if len(d.Suppressed) > 0 {
		s := append([]Suppressed(nil), d.Suppressed...)
		sort.SliceStable(s, func(i, j int) bool {
			if s[i].Package.Name != s[j].Package.Name {
				return s[i].Package.Name < s[j].Package.Name
			}
			return s[i].Vulnerability.Name < s[j].Vulnerability.Name
		})
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Suppressed: %d %s (not counted above)\n", len(s), pluralWord(len(s), "finding"))
		t := columns{}
		t.add("PACKAGE", "INSTALLED", "VULNERABILITY", "SEVERITY", "REASON", "SOURCE")
		for _, x := range s {
			t.add(x.Package.Name, x.Package.Version, x.Vulnerability.Name,
				x.Vulnerability.NormalizedSeverity.String(), x.Reason, x.Source)
		}
		if err := t.write(w); err != nil {
			return fmt.Errorf("report: table: %w", err)
		}
	}
	if len(d.Warnings) > 0 {
		fmt.Fprintln(w)
		for _, x := range d.Warnings {
			fmt.Fprintln(w, "Warning: "+x)
		}
	}
	return nil
}

func pluralWord(n int, word string) string {
	switch {
	case n == 1:
		return word
	case word == "vulnerability":
		return "vulnerabilities"
	}
	return word + "s"
}
