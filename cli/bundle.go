package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/openclair/clair/config"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/connect"
	"github.com/openclair/clair/updater"
)

// newExportUpdaters is Clair's clairctl export-updaters: every feed's
// current snapshot in one file, for a server that cannot reach them.
func newExportUpdaters(g *globals) *cobra.Command {
	var ff feedFlags
	c := &cobra.Command{
		Use:   "export-updaters FILE",
		Short: "Fetch every feed's current snapshot into one compressed bundle for an offline server",
		Long: `Fetch every feed's current snapshot into FILE, one zstd-compressed bundle
(each feed's snapshot, fingerprint and advisory count), for a server without
access to the feeds: copy FILE over and run 'clairctl import-updaters FILE'
there (its config can say disable_updaters: true). Any feed failing fails
the export, and FILE is only written whole.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			feeds, urls, err := ff.selected()
			if err != nil {
				return err
			}
			dst := args[0]
			tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
			if err != nil {
				return fmt.Errorf("export-updaters: %w", err)
			}
			defer os.Remove(tmp.Name()) // after the rename, a no-op
			u := &updater.Updater{URLs: urls, Log: g.logger()}
			m, err := u.ExportBundle(ctx, tmp, feeds)
			if cerr := tmp.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("export-updaters: %w", err)
			}
			// CreateTemp makes it 0600; a bundle is public data to copy.
			if err := os.Chmod(tmp.Name(), 0o644); err != nil {
				return fmt.Errorf("export-updaters: %w", err)
			}
			if err := os.Rename(tmp.Name(), dst); err != nil {
				return fmt.Errorf("export-updaters: %w", err)
			}
			fi, err := os.Stat(dst)
			if err != nil {
				return err
			}
			for _, e := range m.Feeds {
				fmt.Fprintf(g.stderr, "  %-16s %d advisories\n", e.Feed, e.Advisories)
			}
			fmt.Fprintf(g.stderr, "wrote %s: %d feeds, %s\n", dst, len(m.Feeds), limit.Bytes(fi.Size()))
			return nil
		},
	}
	ff.register(c)
	return c
}

// newImportUpdaters is Clair's clairctl import-updaters: a bundle into the
// store a server reads (SQLite or PostgreSQL).
func newImportUpdaters(g *globals) *cobra.Command {
	var (
		cfgPath string
		force   bool
	)
	c := &cobra.Command{
		Use:   "import-updaters FILE|URL",
		Short: "Load a bundle written by export-updaters into the database",
		Long: `Load a bundle written by 'clairctl export-updaters' (a file path, file://
or http(s):// URL) into the database: --db, or with --config the matcher's
connstring of a server's config (SQLite or PostgreSQL). Each feed is
replaced in one transaction; a feed whose stored fingerprint is the
bundle's is skipped. A snapshot that loses most of a stored feed is refused
unless --force.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			conn := g.db
			if cfgPath != "" {
				cfg, err := config.Load(cfgPath)
				if err != nil {
					return err
				}
				conn = cfg.Matcher.ConnString
			}
			st, err := openConn(ctx, conn)
			if err != nil {
				return err
			}
			defer st.Close()
			src, err := absFileURL(args[0])
			if err != nil {
				return err
			}
			if abs, err := filepath.Abs(src); err == nil && !isURL(src) {
				src = abs
			}
			u := &updater.Updater{Store: st, Log: g.logger(), Force: force}
			res, err := u.ImportBundleURL(ctx, src)
			for _, r := range res {
				switch {
				case r.Err != nil:
					fmt.Fprintf(g.stderr, "  %-16s failed: %v\n", r.Feed, r.Err)
				case r.Changed:
					fmt.Fprintf(g.stderr, "  %-16s imported: %d advisories in %s\n", r.Feed, r.Advisories, r.Duration.Round(1e6))
				default:
					fmt.Fprintf(g.stderr, "  %-16s unchanged: %d advisories\n", r.Feed, r.Advisories)
				}
			}
			if err != nil {
				return fmt.Errorf("import-updaters: %w", err)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&cfgPath, "config", "c", "", "server config file whose matcher connstring names the database (instead of --db)")
	c.Flags().BoolVar(&force, "force", false, "accept a snapshot that loses most of a stored feed")
	g.dbFlag(c)
	return c
}

// openConn opens the store a connection string names: a SQLite path (""
// for the default file) or PostgreSQL.
func openConn(ctx context.Context, conn string) (store.Store, error) {
	st, err := connect.Open(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", connect.Redacted(conn), err)
	}
	return st, nil
}

func isURL(s string) bool {
	for _, p := range []string{"http://", "https://", "file:"} {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}
