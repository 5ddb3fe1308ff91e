package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// MaxTemplateSize bounds a --template file: templates are small, and a
// wrong path (an image, a log) should fail fast rather than be read whole.
const MaxTemplateSize = 1 << 20

// TemplateData is what a --template file sees as ".".
type TemplateData struct {
	// Report is Clair's vulnerability report (the JSON format's fields).
	Report *vuln.VulnerabilityReport
	// Image is the reference the user gave; it may be empty.
	Image string
	// Findings are the active (package, vulnerability) pairs, most severe
	// first; Suppressed those the gates took out, with .Suppressed.Reason.
	Findings   []Finding
	Suppressed []Finding
	Warnings   []string
	// Summary is the table format's last line.
	Summary string
}

// templateFuncs are the helpers a template may call besides text/template's
// own.
var templateFuncs = template.FuncMap{
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"purl": func(vr *vuln.VulnerabilityReport, p *vuln.Package) string { return Purl(vr, p) },
}

// Template renders d through the text/template in file. The output is
// written only once the whole template ran, so a template that fails
// half-way writes nothing; the error names the file, and text/template's
// message the line and column.
func Template(w io.Writer, file string, d *Document) error {
	if file == "" {
		return errors.New("report: format template needs a template file (--template FILE)")
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("report: template: %w", err)
	}
	defer f.Close()
	src, err := limit.ReadAll(f, MaxTemplateSize)
	if err != nil {
		return fmt.Errorf("report: template %s: %w", file, err)
	}
	// Named after the file, so text/template's messages read
	// "template: FILE:LINE:COL: ...".
	t, err := template.New(filepath.Base(file)).Option("missingkey=error").Funcs(templateFuncs).Parse(string(src))
	if err != nil {
		return fmt.Errorf("report: template %s: %w", file, err)
	}
	active, suppressed := Findings(d)
	data := TemplateData{Report: d.Report, Image: d.Image, Findings: active, Suppressed: suppressed, Warnings: d.Warnings}
	if d.Report != nil {
		data.Summary = Summary(d.Report, Rows(d.Report))
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("report: template %s: %w", file, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: template: %w", err)
	}
	return nil
}
