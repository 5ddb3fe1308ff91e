package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/openclair/clair/plugins/registered"
)

// newPlugins lists what this binary was built with, so that a custom
// binary's extra scanners and feeds can be seen to be there.
func newPlugins(g *globals) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "plugins",
		Short: "List the scanners, feeds, version schemes and ecosystems this binary holds",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			list := registered.List()
			switch format {
			case "json":
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			case "table", "":
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tDETAIL")
				for _, p := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Kind, p.Name, p.Version, p.Detail)
				}
				return tw.Flush()
			}
			return fmt.Errorf("--format %q: want table or json", format)
		},
	}
	c.Flags().StringVar(&format, "format", "table", "table or json")
	return c
}
