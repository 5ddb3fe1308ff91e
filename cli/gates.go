package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclair/clair/gate"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/suppress"
	"github.com/openclair/clair/vuln"
)

// outputFlags are the flags shared by scan, report and diff: what to show
// (filters, suppressions), how (format, output file) and when to fail.
type outputFlags struct {
	format        string
	output        string
	template      string
	severity      string
	minSeverity   string
	ignoreUnfixed bool
	failOn        string
	failOnKEV     bool
	ignoreFile    string
	vex           []string

	// Set by prepare.
	started time.Time
	filter  gate.Filter
	gate    gate.FailOn
	rules   []suppress.Rule
}

func (o *outputFlags) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.format, "format", "table", "output format: "+strings.Join(report.Formats, ", "))
	f.StringVar(&o.format, "output-format", "table", "same as --format")
	_ = f.MarkHidden("output-format")
	f.StringVarP(&o.output, "output", "o", "", "write the report to FILE (complete or not at all) instead of stdout")
	f.StringVar(&o.template, "template", "", "Go text/template FILE for --format template")
	f.StringVar(&o.severity, "severity", "", "show only findings of these severities (comma-separated: Critical,High)")
	f.StringVar(&o.minSeverity, "min-severity", "", "show only findings of this severity or above")
	f.StringVar(&o.minSeverity, "minimum-severity", "", "same as --min-severity")
	_ = f.MarkHidden("minimum-severity")
	f.BoolVar(&o.ignoreUnfixed, "ignore-unfixed", false, "show only findings that have a fixed version")
	f.StringVar(&o.failOn, "fail-on", "", "exit 1 when a shown finding is at or above this severity, or in CISA KEV (\"kev\"; \"High,kev\" for either); exit 3 when there was no data to judge by")
	f.BoolVar(&o.failOnKEV, "fail-on-kev", false, "exit 1 when a shown finding is in CISA KEV (same as adding kev to --fail-on)")
	f.StringVar(&o.ignoreFile, "ignore-file", "", "ignore file (default "+suppress.DefaultIgnoreFile+" in the working directory, when present)")
	f.StringArrayVar(&o.vex, "vex", nil, "VEX FILE (OpenVEX 0.2 or CycloneDX VEX): not_affected and fixed statements suppress findings; repeatable")
}

// prepare checks every flag and reads the ignore and VEX files before any
// work is done: a typo must not cost a scan.
func (o *outputFlags) prepare(ctx context.Context) error {
	o.started = time.Now()
	if !knownFormat(o.format) {
		return fmt.Errorf("--format %q: want one of %s", o.format, strings.Join(report.Formats, ", "))
	}
	if o.format == "template" && o.template == "" {
		return errors.New("--format template needs --template FILE")
	}
	if o.template != "" && o.format != "template" {
		return fmt.Errorf("--template: applies to --format template, not %s", o.format)
	}
	if o.template != "" {
		if _, err := os.Stat(o.template); err != nil {
			return fmt.Errorf("--template: %w", err)
		}
	}
	if err := o.checkOutput(); err != nil {
		return err
	}
	if o.severity != "" {
		s, err := gate.ParseSeverities(o.severity)
		if err != nil {
			return fmt.Errorf("--severity: %w", err)
		}
		o.filter.Severities = s
	}
	if o.minSeverity != "" {
		s, err := gate.ParseSeverity(o.minSeverity)
		if err != nil {
			return fmt.Errorf("--min-severity: %w", err)
		}
		o.filter.MinSeverity, o.filter.HasMin = s, true
	}
	o.filter.IgnoreUnfixed = o.ignoreUnfixed
	if o.failOn != "" {
		f, err := gate.ParseFailOn(o.failOn)
		if err != nil {
			return err
		}
		o.gate = f
	}
	o.gate.KEV = o.gate.KEV || o.failOnKEV
	// VEX first: Apply lets a later statement win, and ignore entries
	// never override a VEX "affected".
	for _, v := range o.vex {
		r, err := suppress.LoadFile(ctx, v, true)
		if err != nil {
			return fmt.Errorf("--vex: %w", err)
		}
		o.rules = append(o.rules, r...)
	}
	name := o.ignoreFile
	if name == "" {
		if _, err := os.Stat(suppress.DefaultIgnoreFile); err != nil {
			return nil // no ignore file: nothing to suppress
		}
		name = suppress.DefaultIgnoreFile
	}
	r, err := suppress.LoadFile(ctx, name, false)
	if err != nil {
		return fmt.Errorf("--ignore-file: %w", err)
	}
	o.rules = append(o.rules, r...)
	return nil
}

func (o *outputFlags) checkOutput() error {
	if o.output != "" {
		if st, err := os.Stat(filepath.Dir(o.output)); err != nil || !st.IsDir() {
			return fmt.Errorf("--output %s: no such folder %s", o.output, filepath.Dir(o.output))
		}
	}
	return nil
}

func knownFormat(f string) bool {
	for _, k := range report.Formats {
		if k == f {
			return true
		}
	}
	return false
}

// document applies filters and suppressions to vr and says what the reader
// must know (warnings).
func (o *outputFlags) document(stderr io.Writer, vr *vuln.VulnerabilityReport, image string, warnings []string) *report.Document {
	res := suppress.Apply(vr, o.rules, time.Now())
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "warning: "+w)
	}
	d := &report.Document{
		Report:     o.filter.Apply(res.Report),
		Image:      image,
		Suppressed: res.Suppressed,
		Warnings:   append(append([]string(nil), warnings...), res.Warnings...),
		Template:   o.template,
		Started:    o.started,
	}
	return d
}

// verdict is the gate's decision over the documents written.
func (o *outputFlags) verdict(stderr io.Writer, docs []*report.Document, missing bool) error {
	if !o.gate.Set() {
		return nil
	}
	n := 0
	for _, d := range docs {
		n += len(o.gate.Failing(d.Report))
	}
	if n > 0 {
		return exitError{code: gate.ExitFindings, err: fmt.Errorf("gate: %s at or above the gate (%s)", plural(n, "finding"), o.gate)}
	}
	if missing {
		return exitError{code: gate.ExitMissingData, err: errors.New("gate: no data to judge the image by (see the warnings above); failing rather than passing blind")}
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// write renders the documents to stdout or the --output file.
func (o *outputFlags) write(stdout io.Writer, docs []*report.Document, titles bool) error {
	return o.writeWith(stdout, func(w io.Writer) error {
		for i, d := range docs {
			if titles && o.format == "table" && len(docs) > 1 {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "%s (%s)\n", d.Image, d.Report.ManifestHash)
			}
			if err := report.WriteDocument(w, o.format, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// brief is true when the output shows no vulnerability's description or
// links (the table), so the match need not read them.
func (o *outputFlags) brief() bool { return o.format == "table" }

// writeWith runs render on stdout or, with --output, on a file written
// beside it and renamed into place, so that a failure leaves no half
// report.
func (o *outputFlags) writeWith(stdout io.Writer, render func(io.Writer) error) error {
	if o.output == "" {
		return renderBuffered(stdout, render) // output.go
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.output), "."+filepath.Base(o.output)+".*")
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := renderBuffered(tmp, render); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	if err := os.Rename(tmp.Name(), o.output); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	return nil
}

// missingData says what a report cannot vouch for: no packages at all, or a
// distribution no feed covers (its packages were not checked). It returns
// one warning per cause.
func missingData(vr *vuln.VulnerabilityReport, image string) []string {
	var out []string
	if len(vr.Packages) == 0 {
		out = append(out, fmt.Sprintf("no packages found in %s: nothing was checked", image))
		return out
	}
	distPkgs := 0
	for _, p := range vr.Packages {
		if !vuln.IsLanguage(p.Ecosystem) {
			distPkgs++
		}
	}
	var names []string
	for _, d := range vr.Distributions {
		prefix, _, _ := strings.Cut(vuln.Namespace(d), ":")
		if _, ok := namespaceFeeds[prefix]; ok {
			continue
		}
		n := d.PrettyName
		if n == "" {
			n = strings.TrimSpace(d.DID + " " + d.VersionID)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, fmt.Sprintf("%s: no vulnerability feed covers this distribution; its %s were not checked", n, plural(distPkgs, "package")))
	}
	return out
}
