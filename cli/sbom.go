package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openclair/clair/index"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/scanner"
)

func newSBOM(g *globals) *cobra.Command {
	var (
		format, output, platform string
	)
	c := &cobra.Command{
		Use:   "sbom [flags] IMAGE",
		Short: "Print the packages of an image (CycloneDX or SPDX); no feeds needed",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			ok := false
			for _, f := range report.SBOMFormats {
				ok = ok || f == format
			}
			if !ok {
				return fmt.Errorf("--format %q: want one of %s", format, strings.Join(report.SBOMFormats, ", "))
			}
			of := outputFlags{output: output}
			if err := of.checkOutput(); err != nil {
				return err
			}
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			img, err := g.openImage(ctx, args[0], platform)
			if err != nil {
				return err
			}
			defer img.Close()
			ir, err := (&index.Indexer{Store: st, Scanners: scanner.All()}).Index(ctx, img)
			if err != nil {
				return err
			}
			for _, w := range ir.Warnings {
				fmt.Fprintln(g.stderr, "warning: "+w)
			}
			if len(ir.Packages) == 0 {
				fmt.Fprintf(g.stderr, "warning: no packages found in %s\n", args[0])
			}
			return of.writeWith(g.stdout, func(w io.Writer) error {
				return report.WriteSBOM(w, format, ir, args[0])
			})
		},
	}
	c.Flags().StringVar(&format, "format", "cyclonedx", "SBOM format: "+strings.Join(report.SBOMFormats, ", "))
	c.Flags().StringVarP(&output, "output", "o", "", "write the SBOM to FILE (complete or not at all) instead of stdout")
	c.Flags().StringVar(&platform, "platform", "linux/amd64", "platform to pick from a multi-platform image")
	g.dbFlag(c)
	return c
}
