package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/updater"
	"github.com/openclair/clair/vuln"
)

type globals struct {
	db      string
	verbose bool
	stdout  io.Writer
	stderr  io.Writer
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "clairctl",
		Short:         "Scan container images for known vulnerabilities",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.db, "db", os.Getenv("CLAIR_DB"), "database: a SQLite file path (default: the user cache folder; env CLAIR_DB)")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log progress to stderr")
	root.AddCommand(newUpdate(g), newScan(g))
	root.AddCommand(newManifest(g))
	root.AddCommand(newReport(g))
	root.AddCommand(newPlugins(g))
	root.AddCommand(newNotifications(g))
	return root
}

func (g *globals) logger() *slog.Logger {
	lvl := slog.LevelWarn
	if g.verbose {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
}

func (g *globals) openStore(ctx context.Context) (store.Store, error) {
	path := g.db
	if path == "" {
		p, err := sqlite.DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	path = strings.TrimPrefix(path, "sqlite:")
	return sqlite.Open(ctx, path)
}

// feedFlags are the flags that choose feeds and their URLs.
type feedFlags struct {
	only  []string
	feeds []string
}

func (f *feedFlags) register(c *cobra.Command) {
	c.Flags().StringSliceVar(&f.only, "only", nil, "update only these feeds (comma-separated: "+strings.Join(feedNames(), ",")+")")
	c.Flags().StringArrayVar(&f.feeds, "feed", nil, "NAME=URL: fetch feed NAME from URL (a mirror, or file:// for an offline copy); env CLAIR_FEED_<NAME>")
}

func feedNames() []string {
	var n []string
	for _, f := range feed.All() {
		n = append(n, f.Name())
	}
	return n
}

// selected returns the feeds to update and their URL overrides.
func (f *feedFlags) selected() ([]feed.Feed, map[string]string, error) {
	urls := map[string]string{}
	for _, fd := range feed.All() {
		if v := os.Getenv("CLAIR_FEED_" + strings.ToUpper(fd.Name())); v != "" {
			urls[fd.Name()] = v
		}
	}
	for _, kv := range f.feeds {
		name, u, ok := strings.Cut(kv, "=")
		if !ok || name == "" || u == "" {
			return nil, nil, fmt.Errorf("--feed %q: want NAME=URL", kv)
		}
		if _, ok := feed.Lookup(name); !ok {
			return nil, nil, fmt.Errorf("--feed %q: unknown feed %q (known: %s)", kv, name, strings.Join(feedNames(), ", "))
		}
		abs, err := absFileURL(u)
		if err != nil {
			return nil, nil, fmt.Errorf("--feed %q: %w", kv, err)
		}
		urls[name] = abs
	}
	var out []feed.Feed
	if len(f.only) == 0 {
		return feed.All(), urls, nil
	}
	for _, n := range f.only {
		fd, ok := feed.Lookup(strings.TrimSpace(n))
		if !ok {
			return nil, nil, fmt.Errorf("--only: unknown feed %q (known: %s)", n, strings.Join(feedNames(), ", "))
		}
		out = append(out, fd)
	}
	return out, urls, nil
}

// absFileURL turns the relative forms people type ("file://testdata/x",
// "file:testdata/x") into absolute file URLs; other URLs pass unchanged.
func absFileURL(u string) (string, error) {
	if !strings.HasPrefix(u, "file:") {
		return u, nil
	}
	p := strings.TrimPrefix(u, "file:")
	p = strings.TrimPrefix(p, "//")
	if strings.HasPrefix(p, "localhost/") {
		p = strings.TrimPrefix(p, "localhost")
	}
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		p = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String(), nil
}

func runUpdate(ctx context.Context, g *globals, st store.Store, ff *feedFlags) error {
	feeds, urls, err := ff.selected()
	if err != nil {
		return err
	}
	u := &updater.Updater{Store: st, URLs: urls, Log: g.logger()}
	res, err := u.Run(ctx, feeds)
	for _, r := range res {
		switch {
		case r.Err != nil:
			fmt.Fprintf(g.stderr, "  %-8s failed: %v\n", r.Feed, r.Err)
		case r.Changed:
			fmt.Fprintf(g.stderr, "  %-8s updated: %d advisories in %s\n", r.Feed, r.Advisories, r.Duration.Round(time.Millisecond))
		default:
			fmt.Fprintf(g.stderr, "  %-8s unchanged: %d advisories\n", r.Feed, r.Advisories)
		}
	}
	return err
}

func newUpdate(g *globals) *cobra.Command {
	var ff feedFlags
	var format string
	c := &cobra.Command{
		Use:   "update",
		Short: "Bring the vulnerability feeds up to date, and list the scanned images the update affects",
		Long: "Bring the vulnerability feeds up to date. The images previously scanned into the database are then\n" +
			"checked against what changed: each vulnerability an image gained (added) or lost (removed) is printed\n" +
			"(`clairctl notifications` lists them again later).",
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
			fmt.Fprintln(g.stderr, "Updating vulnerability feeds:")
			sets, err := updateAndNotify(ctx, g, st, &ff)
			if sets != nil {
				if werr := writeSets(g.stdout, format, sets); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	ff.register(c)
	c.Flags().StringVar(&format, "format", "table", "output format of the affected images: table or json")
	return c
}

func newScan(g *globals) *cobra.Command {
	var (
		ff         feedFlags
		skipUpdate bool
		format     string
		platform   string
	)
	c := &cobra.Command{
		Use:   "scan [flags] IMAGE",
		Short: "Index an image and report its vulnerabilities",
		Long: `Index an image and report its vulnerabilities.

IMAGE is a registry reference (debian:12, ghcr.io/x/y@sha256:...) or one of
  docker-archive:PATH   a "docker save" tar, compressed or not
  oci-archive:PATH      a tar of an OCI layout
  oci:DIR               an OCI layout folder
  dir:PATH              a root filesystem folder`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			img, err := image.Open(ctx, args[0], image.Options{Platform: platform, Keychain: authn.DefaultKeychain})
			if err != nil {
				return err
			}
			defer img.Close()
			ix := &index.Indexer{Store: st, Scanners: scanner.All()}
			ir, err := ix.Index(ctx, img)
			if err != nil {
				return err
			}
			for _, w := range ir.Warnings {
				fmt.Fprintln(g.stderr, "warning: "+w)
			}
			if err := st.PutIndexReport(ctx, ir); err != nil {
				return err
			}
			if !skipUpdate {
				// Without --only, only the feeds this image needs: a Debian
				// image has no use for Red Hat's archive.
				if len(ff.only) == 0 {
					ff.only = feedsFor(ir)
				}
				if len(ff.only) > 0 {
					fmt.Fprintln(g.stderr, "Updating vulnerability feeds (--skip-update to use the stored data):")
					if err := runUpdate(ctx, g, st, &ff); err != nil {
						// Stale data is better than no scan; missing data is
						// caught below, per namespace the image needs.
						fmt.Fprintln(g.stderr, "  warning: some feeds could not be updated; using the data already stored")
					}
				}
			}
			if err := checkFeedData(ctx, st, ir); err != nil {
				return err
			}
			if n := languagePackages(ir); n > 0 {
				if _, err := st.FeedState(ctx, "osv"); err != nil {
					fmt.Fprintf(g.stderr, "warning: %d language packages, but no OSV data: they are not checked (clairctl update --only osv)\n", n)
				}
			}
			vr, err := (&match.Matcher{Store: st}).Match(ctx, ir)
			if err != nil {
				return err
			}
			return report.Write(g.stdout, format, vr)
		},
	}
	ff.register(c)
	c.Flags().BoolVar(&skipUpdate, "skip-update", false, "do not update the feeds first")
	c.Flags().StringVar(&format, "format", "table", "output format: table or json")
	c.Flags().StringVar(&platform, "platform", "linux/amd64", "platform to pick from a multi-platform image")
	return c
}

// namespaceFeeds says which feed serves a distribution namespace prefix.
var namespaceFeeds = map[string]string{
	"debian":        "debian",
	"ubuntu":        "ubuntu",
	"alpine":        "alpine",
	"rhel":          "redhat",
	"ol":            "oracle",
	"sles":          "suse",
	"opensuse-leap": "suse",
	"photon":        "photon",
	"mariner":       "mariner",
	"azurelinux":    "mariner",
	"amzn":          "amazon",
	"rocky":         "osv",
	"alma":          "osv",
}

func languagePackages(ir *vuln.IndexReport) int {
	n := 0
	for _, p := range ir.Packages {
		if vuln.IsLanguage(p.Ecosystem) {
			n++
		}
	}
	return n
}

// feedsFor lists the feeds that serve what the image holds.
func feedsFor(ir *vuln.IndexReport) []string {
	set := map[string]bool{}
	for _, d := range ir.Distributions {
		prefix, _, _ := strings.Cut(vuln.Namespace(d), ":")
		if f, ok := namespaceFeeds[prefix]; ok {
			set[f] = true
		}
		if prefix == "rhel" {
			// The content-set mapping; without it the copy compiled into
			// the rhel scanner serves, so it is not required data.
			set["redhat-repo2cpe"] = true
		}
	}
	for _, p := range ir.Packages {
		if vuln.IsLanguage(p.Ecosystem) {
			set["osv"] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// checkFeedData refuses to report "no vulnerabilities" for an image whose
// distribution has no data at all: a CI gate must not pass on an empty store.
func checkFeedData(ctx context.Context, st store.Store, ir *vuln.IndexReport) error {
	var missing []string
	for _, d := range ir.Distributions {
		ns := vuln.Namespace(d)
		prefix, _, _ := strings.Cut(ns, ":")
		name, ok := namespaceFeeds[prefix]
		if !ok {
			continue
		}
		if _, err := st.FeedState(ctx, name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("no vulnerability data for %s: run 'clairctl update --only %s' (or give --feed NAME=URL)", strings.Join(missing, ", "), strings.Join(missing, ","))
	}
	return nil
}
