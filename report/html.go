package report

import (
	"bufio"
	"embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/openclair/clair/vuln"
)

//go:embed html/report.html.tmpl
var htmlFS embed.FS

var htmlTmpl = template.Must(template.ParseFS(htmlFS, "html/report.html.tmpl"))

// SeverityColors are the severity chart's bar colors, one per severity
// and used nowhere else on the page (the browser test counts their pixels).
var SeverityColors = map[vuln.Severity]string{
	vuln.Critical:   "#9c27b0",
	vuln.High:       "#e53935",
	vuln.Medium:     "#fb8c00",
	vuln.Low:        "#fdd835",
	vuln.Negligible: "#43a047",
	vuln.Unknown:    "#78909c",
}

// ChartWidth is the width in pixels of the longest severity bar.
const ChartWidth = 400

type htmlPage struct {
	Title, Manifest, Summary string
	Distributions            []string
	Packages                 int
	Warnings                 []string
	Bars                     []htmlBar
	ChartHeight              int
	Findings                 []htmlFinding
	Layers                   []htmlLayer
	Suppressed               []htmlFinding
	// Rows and Groups are the findings table's rows and the layer and
	// package groups, escaped here rather than by html/template: the
	// template engine's reflection costs several times the page's bytes
	// on a report of ten thousand findings.
	Rows, Groups template.HTML
}

type htmlBar struct {
	Name, Color                    string
	Count, Width, Y, TextY, LabelX int
}

type htmlFinding struct {
	Severity, Package, Version, Vuln, Link, FixedIn, Layer, LayerShort, CVSS, Score, Reason, Source string
	Rank                                                                                            int
}

type htmlLayer struct {
	Digest, Short string
	Count         int
	Packages      []*htmlPkg
}

type htmlPkg struct {
	Name, Version string
	Findings      []htmlFinding
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	if digest == "" {
		return "(unknown)"
	}
	return digest
}

func htmlRow(f *Finding) htmlFinding {
	v := f.Vulnerability
	h := htmlFinding{
		Severity: v.NormalizedSeverity.String(), Rank: int(v.NormalizedSeverity),
		Package: f.Package.Name, Version: f.Package.Version, Vuln: v.Name, Link: firstLink(v),
		FixedIn: f.FixedIn, Layer: f.Layer, LayerShort: short(f.Layer),
	}
	if f.CVSS != nil {
		h.Score = strconv.FormatFloat(f.CVSS.BaseScore, 'f', 1, 64)
		h.CVSS = h.Score
	}
	if s := f.Suppressed; s != nil {
		h.Reason, h.Source = s.Reason, s.Source
	}
	return h
}

// HTML writes d as one self-contained HTML page: a severity chart, a
// filter box, a sortable table of findings, the findings grouped by layer
// and package, and the suppressed findings apart. It loads nothing from
// the network (its Content-Security-Policy forbids it).
func HTML(w io.Writer, d *Document) error {
	vr := d.Report
	if vr == nil {
		vr = &vuln.VulnerabilityReport{}
	}
	active, suppressed := Findings(d)
	p := htmlPage{Title: subject(d), Manifest: vr.ManifestHash, Packages: len(vr.Packages), Warnings: d.Warnings,
		Summary: Summary(vr, Rows(vr))}
	for _, dist := range sortedDists(vr.Distributions) {
		p.Distributions = append(p.Distributions, distName(dist))
	}

	counts := map[vuln.Severity]int{}
	p.Findings = make([]htmlFinding, 0, len(active))
	layers := map[string]*htmlLayer{}
	pkgs := map[string]*htmlPkg{}
	for i := range active {
		f := &active[i]
		counts[f.Vulnerability.NormalizedSeverity]++
		h := htmlRow(f)
		p.Findings = append(p.Findings, h)
		l := layers[f.Layer]
		if l == nil {
			l = &htmlLayer{Digest: f.Layer, Short: short(f.Layer)}
			layers[f.Layer] = l
		}
		l.Count++
		key := f.Layer + "\x00" + f.Package.ID
		pk := pkgs[key]
		if pk == nil {
			pk = &htmlPkg{Name: f.Package.Name, Version: f.Package.Version}
			pkgs[key] = pk
			l.Packages = append(l.Packages, pk)
		}
		pk.Findings = append(pk.Findings, h)
	}
	// The report carries no layer order: layers by digest, the unknown
	// last; packages by name.
	for _, l := range layers {
		sort.Slice(l.Packages, func(i, j int) bool {
			if l.Packages[i].Name != l.Packages[j].Name {
				return l.Packages[i].Name < l.Packages[j].Name
			}
			return l.Packages[i].Version < l.Packages[j].Version
		})
		p.Layers = append(p.Layers, *l)
	}
	sort.Slice(p.Layers, func(i, j int) bool {
		a, b := p.Layers[i].Digest, p.Layers[j].Digest
		if (a == "") != (b == "") {
			return b == ""
		}
		return a < b
	})
	for i := range suppressed {
		p.Suppressed = append(p.Suppressed, htmlRow(&suppressed[i]))
	}

	max := 0
	for _, c := range counts {
		if c > max {
			max = c
		}
	}
	for i, s := 0, vuln.Critical; s >= vuln.Unknown; i, s = i+1, s-1 {
		b := htmlBar{Name: s.String(), Color: SeverityColors[s], Count: counts[s], Y: 4 + i*24}
		b.TextY = b.Y + 13
		if max > 0 {
			b.Width = BarWidth(counts[s], max)
		}
		b.LabelX = 100 + b.Width + 6
		p.Bars = append(p.Bars, b)
	}
	p.ChartHeight = 4 + len(p.Bars)*24

	p.Rows, p.Groups = htmlRows(p.Findings), htmlGroups(p.Layers)

	bw := bufio.NewWriterSize(w, 64<<10)
	if err := htmlTmpl.Execute(bw, &p); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// BarWidth is the chart's bar length in pixels for count findings when the
// largest severity has max (the page's script computes the same).
func BarWidth(count, max int) int {
	if count == 0 || max == 0 {
		return 0
	}
	w := int(float64(count)/float64(max)*ChartWidth + 0.5)
	if w < 2 {
		w = 2
	}
	return w
}

// esc escapes s for HTML text and quoted attribute values.
var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").WriteString

func htmlRows(fs []htmlFinding) template.HTML {
	var b strings.Builder
	b.Grow(len(fs) * 400)
	for i := range fs {
		f := &fs[i]
		b.WriteString("\n<tr data-sev=\"")
		b.WriteString(strconv.Itoa(f.Rank))
		b.WriteString(`" data-sevname="`)
		b.WriteString(f.Severity)
		b.WriteString(`" data-cvss="`)
		b.WriteString(f.Score)
		b.WriteString(`"><td><span class="sev sev-`)
		b.WriteString(f.Severity)
		b.WriteString(`">`)
		b.WriteString(f.Severity)
		b.WriteString("</span></td><td>")
		esc(&b, f.Package)
		b.WriteString("</td><td>")
		esc(&b, f.Version)
		b.WriteString("</td><td>")
		if f.Link != "" { // firstLink keeps http and https URLs only
			b.WriteString(`<a href="`)
			esc(&b, f.Link)
			b.WriteString(`" rel="noreferrer">`)
			esc(&b, f.Vuln)
			b.WriteString("</a>")
		} else {
			esc(&b, f.Vuln)
		}
		b.WriteString("</td><td>")
		b.WriteString(f.CVSS)
		b.WriteString("</td><td>")
		esc(&b, f.FixedIn)
		b.WriteString(`</td><td title="`)
		esc(&b, f.Layer)
		b.WriteString(`">`)
		esc(&b, f.LayerShort)
		b.WriteString("</td></tr>")
	}
	return template.HTML(b.String())
}

func htmlGroups(ls []htmlLayer) template.HTML {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString("\n<details class=\"layer\" open><summary>Layer <code title=\"")
		esc(&b, l.Digest)
		b.WriteString(`">`)
		esc(&b, l.Short)
		b.WriteString(`</code> — <span class="n">`)
		b.WriteString(strconv.Itoa(l.Count))
		b.WriteString("</span> findings in ")
		b.WriteString(strconv.Itoa(len(l.Packages)))
		b.WriteString(" packages</summary>")
		for _, p := range l.Packages {
			b.WriteString("\n<details class=\"pkg\"><summary>")
			esc(&b, p.Name)
			b.WriteString(" ")
			esc(&b, p.Version)
			b.WriteString(` — <span class="n">`)
			b.WriteString(strconv.Itoa(len(p.Findings)))
			b.WriteString("</span></summary>\n<ul class=\"f\">")
			for i := range p.Findings {
				f := &p.Findings[i]
				b.WriteString(`<li data-sevname="`)
				b.WriteString(f.Severity)
				b.WriteString(`"><span class="sev sev-`)
				b.WriteString(f.Severity)
				b.WriteString(`">`)
				b.WriteString(f.Severity)
				b.WriteString("</span> ")
				esc(&b, f.Vuln)
				b.WriteString(" · fixed in ")
				esc(&b, f.FixedIn)
				b.WriteString("</li>")
			}
			b.WriteString("</ul>\n</details>")
		}
		b.WriteString("\n</details>")
	}
	return template.HTML(b.String())
}
