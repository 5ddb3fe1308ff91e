package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/openclair/clair/reportjson"
)

// DocumentJSON writes Clair's vulnerability report JSON with two additive
// fields: "suppressed" (the findings an ignore file or VEX took out, with
// why) and "warnings" (what the reader must know to trust the result).
// Both are left out when empty, so a plain report is byte for byte Clair's.
func DocumentJSON(w io.Writer, d *Document) error {
	if len(d.Suppressed) == 0 && len(d.Warnings) == 0 {
		return JSON(w, d.Report)
	}
	// The report's closing "}\n" is held back and the two fields written
	// in its place, as encoding/json writes a struct embedding the report.
	var extra bytes.Buffer
	enc := json.NewEncoder(&extra)
	enc.SetEscapeHTML(false)
	for _, f := range []struct {
		key   string
		value any
		set   bool
	}{{"suppressed", d.Suppressed, len(d.Suppressed) > 0}, {"warnings", d.Warnings, len(d.Warnings) > 0}} {
		if !f.set {
			continue
		}
		extra.WriteString(`,"` + f.key + `":`)
		if err := enc.Encode(f.value); err != nil {
			return fmt.Errorf("report: json: %w", err)
		}
		extra.Truncate(extra.Len() - 1) // Encode's newline
	}
	extra.WriteString("}\n")
	ind := newIndenter(w)
	hb := &holdBack{w: ind}
	if err := reportjson.Encode(hb, d.Report); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	if string(hb.tail) != "}\n" {
		return fmt.Errorf("report: json: the report ends in %q", hb.tail)
	}
	if _, err := ind.Write(extra.Bytes()); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	if err := ind.Close(); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}

// holdBack passes on all it is given but the last two bytes.
type holdBack struct {
	w    io.Writer
	tail []byte
}

func (h *holdBack) Write(p []byte) (int, error) {
	if len(h.tail)+len(p) <= 2 {
		h.tail = append(h.tail, p...)
		return len(p), nil
	}
	keep := min(2, len(p))
	if n := 2 - keep; n < len(h.tail) {
		// What the tail no longer holds back leaves first.
		if _, err := h.w.Write(h.tail[:len(h.tail)-n]); err != nil {
			return 0, err
		}
		h.tail = append(h.tail[:0], h.tail[len(h.tail)-n:]...)
	}
	if _, err := h.w.Write(p[:len(p)-keep]); err != nil {
		return 0, err
	}
	h.tail = append(h.tail, p[len(p)-keep:]...)
	return len(p), nil
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
