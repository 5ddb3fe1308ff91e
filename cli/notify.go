package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store"
)

// The CLI keeps notifications as the server does: every update operation
// of its store gets a set, computed from the package→manifest index of the
// images scanned into it (notify.Compute). `clairctl update` prints the sets
// its own run produced; `clairctl notifications` lists them all.

// cliNotifier is the notifier over the CLI's store: one notification per
// (image, vulnerability), no deliverers.
func cliNotifier(st store.Store, log *slog.Logger) (*notify.Notifier, error) {
	ns, ok := st.(notify.Store)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no notifications", st)
	}
	return &notify.Notifier{Store: ns, DisableSummary: true, Logger: log}, nil
}

// setJSON is a set as the CLI prints it.
type setJSON struct {
	ID            string                `json:"id"`
	Feed          string                `json:"feed"`
	Operation     string                `json:"operation"`
	Created       time.Time             `json:"created"`
	Notifications []notify.Notification `json:"notifications"`
}

func loadSets(ctx context.Context, st notify.Store, sets []notify.Set) ([]setJSON, error) {
	out := []setJSON{}
	for _, s := range sets {
		if s.Count == 0 {
			continue
		}
		ns, err := notify.All(ctx, st, s.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, setJSON{ID: s.ID, Feed: s.Feed, Operation: s.Operation, Created: s.Created, Notifications: ns})
	}
	return out, nil
}

// writeSets prints sets as a table (one line per notification) or JSON.
func writeSets(w io.Writer, format string, sets []setJSON) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sets)
	}
	n := 0
	for _, s := range sets {
		n += len(s.Notifications)
	}
	if n == 0 {
		_, err := fmt.Fprintln(w, "No scanned image is affected.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tCHANGE\tVULNERABILITY\tSEVERITY\tPACKAGE\tFIXED IN\tFEED")
	for _, s := range sets {
		for _, x := range s.Notifications {
			pkg := ""
			if x.Vulnerability.Package != nil {
				pkg = x.Vulnerability.Package.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Manifest, x.Reason, x.Vulnerability.Name,
				x.Vulnerability.NormalizedSeverity, pkg, x.Vulnerability.FixedInVersion, s.Feed)
		}
	}
	return tw.Flush()
}

func checkFormat(format string) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("--format %q: want table or json", format)
	}
	return nil
}

// updateAndNotify updates the feeds and returns the sets of what the
// update changed in the images scanned into the store. The notifier
// records where each feed stands before the update, so that a store
// never notified before reports this update and not its whole history.
func updateAndNotify(ctx context.Context, g *globals, st store.Store, ff *feedFlags) ([]setJSON, error) {
	n, err := cliNotifier(st, g.logger())
	if err != nil {
		return nil, err
	}
	if _, err := n.Process(ctx); err != nil {
		return nil, err
	}
	uerr := runUpdate(ctx, g, st, ff)
	sets, err := n.Process(ctx)
	if err != nil {
		return nil, err
	}
	out, err := loadSets(ctx, n.Store, sets)
	if err != nil {
		return nil, err
	}
	return out, uerr
}

func newNotifications(g *globals) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "notifications",
		Short: "List how feed updates changed the images scanned into the database",
		Long: "Every update of a feed is compared with the images previously scanned into the database:\n" +
			"each vulnerability an image gained (added) or lost (removed) by the update is listed, oldest update first.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ctx := c.Context()
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ns, ok := st.(notify.Store)
			if !ok {
				return fmt.Errorf("store %T keeps no notifications", st)
			}
			sets, err := ns.NotificationSets(ctx)
			if err != nil {
				return err
			}
			out, err := loadSets(ctx, ns, sets)
			if err != nil {
				return err
			}
			return writeSets(g.stdout, format, out)
		},
	}
	c.Flags().StringVar(&format, "format", "table", "output format: table or json")
	g.dbFlag(c)
	return c
}
