package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/openclair/clair/diff"
	"github.com/openclair/clair/report"
)

func newDiff(g *globals) *cobra.Command {
	var (
		ff         feedFlags
		of         outputFlags
		skipUpdate bool
		platform   string
	)
	c := &cobra.Command{
		Use:   "diff [flags] OLD NEW",
		Short: "Say what an image upgrade fixes, introduces and leaves",
		Long: `Say what an image upgrade fixes, introduces and leaves.

OLD and NEW are images as "clairctl scan" takes them. A finding is a
(package name, vulnerability) pair: a package upgraded to a version still
affected is "left". Filters and suppressions apply to both images.

table and json show the three lists; the other formats render NEW's
introduced findings as a report. --fail-on gates on the introduced
findings alone: "--fail-on High" fails a change that adds a High.` + exitCodes,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			st, err := openForScan(ctx, g, &of, &ff)
			if err != nil {
				return err
			}
			defer st.Close()
			var docs [2]*report.Document
			missing := false
			for i, ref := range args {
				vr, warnings, m, err := scanImage(ctx, g, st, ref, platform, ff, skipUpdate || i > 0, of.brief())
				if err != nil {
					return err
				}
				missing = missing || m
				docs[i] = of.document(g.stderr, vr, ref, warnings)
			}
			res := diff.Compare(docs[0].Report, docs[1].Report)
			introduced := *docs[1]
			introduced.Report = diff.Only(docs[1].Report, res.Introduced)
			introduced.Warnings = append(append([]string(nil), docs[0].Warnings...), docs[1].Warnings...)
			err = of.writeWith(g.stdout, func(w io.Writer) error {
				switch of.format {
				case "table":
					return diffTable(w, res, &introduced)
				case "json":
					return diffJSON(w, args[0], args[1], docs, res, &introduced)
				}
				return report.WriteDocument(w, of.format, &introduced)
			})
			if err != nil {
				return err
			}
			return of.verdict(g.stderr, []*report.Document{&introduced}, missing)
		},
	}
	ff.register(c)
	of.register(c)
	g.dbFlag(c)
	c.Flags().BoolVar(&skipUpdate, "skip-update", false, "do not update the feeds first")
	c.Flags().StringVar(&platform, "platform", "linux/amd64", "platform to pick from a multi-platform image")
	return c
}

func diffTable(w io.Writer, res *diff.Result, d *report.Document) error {
	for i, sec := range []struct {
		title string
		fs    []diff.Finding
	}{{"Fixed", res.Fixed}, {"Introduced", res.Introduced}, {"Left", res.Left}} {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %s\n", sec.title, plural(len(sec.fs), "finding"))
		if len(sec.fs) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PACKAGE\tINSTALLED\tVULNERABILITY\tSEVERITY\tFIXED IN")
		for _, f := range sec.fs {
			fixed := f.Vulnerability.FixedInVersion
			if fixed == "" {
				fixed = "unfixed"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Package.Name, f.Package.Version, f.Vulnerability.Name, f.Vulnerability.NormalizedSeverity, fixed)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return report.Notes(w, d)
}

func diffJSON(w io.Writer, oldRef, newRef string, docs [2]*report.Document, res *diff.Result, d *report.Document) error {
	out := struct {
		Old        string              `json:"old"`
		New        string              `json:"new"`
		OldHash    string              `json:"old_manifest_hash"`
		NewHash    string              `json:"new_manifest_hash"`
		Fixed      []diff.Finding      `json:"fixed"`
		Introduced []diff.Finding      `json:"introduced"`
		Left       []diff.Finding      `json:"left"`
		Suppressed []report.Suppressed `json:"suppressed,omitempty"`
		Warnings   []string            `json:"warnings,omitempty"`
	}{oldRef, newRef, docs[0].Report.ManifestHash, docs[1].Report.ManifestHash, res.Fixed, res.Introduced, res.Left,
		append(append([]report.Suppressed(nil), docs[0].Suppressed...), docs[1].Suppressed...), d.Warnings}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
