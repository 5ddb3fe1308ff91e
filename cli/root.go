package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/progress"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/connect"
	"github.com/openclair/clair/updater"
	"github.com/openclair/clair/vuln"
)

type globals struct {
	db      string
	verbose bool
	quiet   bool
	stdout  io.Writer
	stderr  io.Writer
}

// dbCommands are the commands that use a database; --db anywhere else is a
// mistake worth saying so.
var dbCommands = map[string]bool{"update": true, "scan": true, "diff": true, "sbom": true, "notifications": true, "import-updaters": true}

const dbUsage = "database: a PostgreSQL URL (postgres://, postgresql://) or key=value string (host=... dbname=...), as the server's config takes, or a SQLite file (PATH or sqlite:PATH; default clair/clair.db in the user cache folder); env CLAIR_DB"

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "clairctl",
		Short: "Scan container images for known vulnerabilities",
		Long: `Scan container images for known vulnerabilities.

Exit status:
  0  the command completed; no finding at or above --fail-on
  1  a finding at or above --fail-on
  2  an error: bad flags or files, an unreadable image, no feed data, ...
  3  --fail-on was given but there was no data to judge the image by
     (a distribution no feed covers, no packages at all)`,
		Version:       buildVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			if f := c.Flags().Lookup("db"); f != nil && f.Changed && !dbCommands[c.Name()] {
				return fmt.Errorf("--db: clairctl %s does not use a database", c.Name())
			}
			if g.quiet && g.verbose {
				return errors.New("--quiet and --verbose: choose one")
			}
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// --db before the command name ("clairctl --db X scan") keeps working;
	// the commands that use it show it in their own --help.
	root.PersistentFlags().StringVar(&g.db, "db", os.Getenv("CLAIR_DB"), dbUsage)
	_ = root.PersistentFlags().MarkHidden("db")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log progress to stderr")
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "print nothing on stderr but warnings and errors")
	root.AddCommand(newUpdate(g), newScan(g))
	root.AddCommand(newManifest(g))
	root.AddCommand(newReport(g))
	root.AddCommand(newPlugins(g))
	root.AddCommand(newDiff(g), newSBOM(g))
	root.AddCommand(newExportUpdaters(g), newImportUpdaters(g))
	root.AddCommand(newNotifications(g))
	return root
}

// dbFlag gives a command that uses the database its own --db.
func (g *globals) dbFlag(c *cobra.Command) {
	c.Flags().StringVar(&g.db, "db", os.Getenv("CLAIR_DB"), dbUsage)
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// progress is the progress printer: nil (silent) with --quiet or when
// stderr is not a terminal.
func (g *globals) progress() *progress.Printer {
	if g.quiet {
		return nil
	}
	return progress.New(g.stderr)
}

// openImage opens ref with progress on registry blob pulls and on each
// layer's reading while it is indexed (layers already indexed are not
// read, and show nothing).
func (g *globals) openImage(ctx context.Context, ref, platform string) (*image.Image, error) {
	pr := g.progress()
	opt := image.Options{Platform: platform, Keychain: authn.DefaultKeychain}
	if pr != nil {
		opt.Transport = pr.Transport(nil, func(r *http.Request) string {
			if i := strings.LastIndex(r.URL.Path, "/blobs/"); i >= 0 {
				return "pull " + shortDigest(r.URL.Path[i+len("/blobs/"):])
			}
			return ""
		})
	}
	img, err := image.Open(ctx, ref, opt)
	if err != nil || pr == nil {
		return img, err
	}
	for i, l := range img.Layers {
		if l == nil || l.Dir != "" {
			continue
		}
		l := l
		img.Layers[i] = image.NewLayer(l.Digest, l.DiffID, l.Size, func(ctx context.Context) (io.ReadCloser, error) {
			rc, err := l.Uncompressed(ctx)
			if err != nil {
				return nil, err
			}
			return pr.Reader(rc, "index "+shortDigest(l.Digest), 0), nil
		})
	}
	return img, nil
}

func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if ok && len(hex) > 12 {
		return hex[:12]
	}
	return d
}

// info prints a progress line unless --quiet.
func (g *globals) info(format string, a ...any) {
	if !g.quiet {
		fmt.Fprintf(g.stderr, format+"\n", a...)
	}
}

func (g *globals) logger() *slog.Logger {
	lvl := slog.LevelWarn
	if g.verbose {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
}

// openStore opens the store --db names, with the server's connection
// strings (package connect): PostgreSQL or SQLite.
func (g *globals) openStore(ctx context.Context) (store.Store, error) {
	st, err := connect.Open(ctx, g.db)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	return st, nil
}

// feedFlags are the flags that choose feeds and their URLs.
type feedFlags struct {
	only  []string
	feeds []string
	force bool // update only: accept a snapshot that loses most of a feed
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
	only := f.only
	if len(only) == 0 && len(f.feeds) > 0 {
		// "--feed debian=file://..." alone means that feed: trying every
		// other one (and failing offline) is never what was asked.
		for _, kv := range f.feeds {
			name, _, _ := strings.Cut(kv, "=")
			only = append(only, name)
		}
	}
	if len(only) == 0 {
		return feed.All(), urls, nil
	}
	seen := map[string]bool{}
	for _, n := range only {
		if seen[n] {
			continue
		}
		seen[n] = true
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
	u := &updater.Updater{Store: st, URLs: urls, Log: g.logger(), Force: ff.force}
	if pr := g.progress(); pr != nil {
		// The updater's own default, with progress on the bodies.
		u.Client = &http.Client{Timeout: 10 * time.Minute, Transport: pr.Transport(nil, func(r *http.Request) string {
			return "download " + r.URL.Host + r.URL.Path
		})}
	}
	res, err := u.Run(ctx, feeds)
	for _, r := range res {
		what := "advisories"
		if f, ok := feed.Lookup(r.Feed); ok {
			if _, ok := f.(feed.Enricher); ok {
				what = "CVE records"
			}
		}
		switch {
		case r.Err != nil:
			fmt.Fprintf(g.stderr, "  %-8s failed: %v\n", r.Feed, r.Err)
		case r.Changed:
			g.info("  %-8s updated: %d %s in %.1fs", r.Feed, r.Advisories, what, r.Duration.Seconds())
		default:
			g.info("  %-8s unchanged: %d %s", r.Feed, r.Advisories, what)
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
		Long: `Bring the vulnerability feeds up to date.

Without --only, every feed is updated; --feed NAME=URL alone updates only
the feeds it names.

The images previously scanned into the database are then checked against
what changed: each vulnerability an image gained (added) or lost (removed)
is printed (clairctl notifications lists them again later).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ctx := c.Context()
			if _, _, err := ff.selected(); err != nil {
				return err
			}
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			g.info("Updating vulnerability feeds:")
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
	c.Flags().BoolVar(&ff.force, "force", false, "accept a snapshot that loses most of a feed (refused otherwise: none left, or under half of a feed of 1000 or more advisories)")
	c.Flags().StringVar(&format, "format", "table", "output format of the affected images: table or json")
	g.dbFlag(c)
	return c
}

// scanImage indexes ref, brings the feeds it needs up to date (unless
// skipUpdate) and matches it. The warnings are what the reader must know;
// missing is true when there was nothing to judge the image by.
func scanImage(ctx context.Context, g *globals, st store.Store, ref, platform string, ff feedFlags, skipUpdate, brief bool) (vr *vuln.VulnerabilityReport, warnings []string, missing bool, err error) {
	warn := func(w string) {
		fmt.Fprintln(g.stderr, "warning: "+w)
		warnings = append(warnings, w)
	}
	img, err := g.openImage(ctx, ref, platform)
	if err != nil {
		return nil, nil, false, err
	}
	defer img.Close()
	ix := &index.Indexer{Store: st, Scanners: scanner.All()}
	ir, err := ix.Index(ctx, img)
	if err != nil {
		return nil, nil, false, err
	}
	for _, w := range ir.Warnings {
		// What the indexer skipped stays on stderr: the report's warnings
		// are about trusting the result.
		fmt.Fprintln(g.stderr, "warning: "+w)
	}
	// Stored while the feeds are checked and the image matched, which
	// need only ir: a large image's report is a millisecond or two to
	// write. Every return below waits for it.
	put := make(chan error, 1)
	go func() { put <- st.PutIndexReport(ctx, ir) }()
	defer func() {
		if perr := <-put; perr != nil && err == nil {
			vr, warnings, missing, err = nil, nil, false, perr
		}
	}()
	updateFailed := false
	if !skipUpdate {
		// Without --only, only the feeds this image needs: a Debian
		// image has no use for Red Hat's archive.
		if len(ff.only) == 0 {
			ff.only = feedsFor(ir)
		}
		if len(ff.only) > 0 {
			g.info("Updating vulnerability feeds (--skip-update to use the stored data):")
			if err := runUpdate(ctx, g, st, &ff); err != nil {
				// Stale data is better than no scan; missing data is
				// caught below, per namespace the image needs.
				warn("some feeds could not be updated; using the data already stored")
				updateFailed = true
			}
		}
	}
	if err := checkFeedData(ctx, st, ir); err != nil {
		var md *missingDataError
		if updateFailed && errors.As(err, &md) {
			// The advice to update or give --feed does not help when that
			// is what just failed (above).
			return nil, nil, false, fmt.Errorf("no vulnerability data for %s: its update failed (see above)", strings.Join(md.feeds, ", "))
		}
		return nil, nil, false, err
	}
	if n := languagePackages(ir); n > 0 {
		if _, err := st.FeedState(ctx, "osv"); err != nil {
			warn(fmt.Sprintf("%d language packages, but no OSV data: they are not checked (clairctl update --only osv)", n))
			missing = true
		}
	}
	vr, err = (&match.Matcher{Store: st, Logger: g.logger(), Brief: brief}).Match(ctx, ir)
	if err != nil {
		return nil, nil, false, err
	}
	for _, w := range missingData(vr, ref) {
		warn(w)
		missing = true
	}
	return vr, warnings, missing, nil
}

// openForScan checks the output and feed flags of a command that scans, so
// that a mistake is found before any work, then opens the store.
func openForScan(ctx context.Context, g *globals, of *outputFlags, ff *feedFlags) (store.Store, error) {
	if err := of.prepare(ctx); err != nil {
		return nil, err
	}
	if _, _, err := ff.selected(); err != nil {
		return nil, err
	}
	return g.openStore(ctx)
}

func newScan(g *globals) *cobra.Command {
	var (
		ff         feedFlags
		of         outputFlags
		skipUpdate bool
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
  dir:PATH              a root filesystem folder

Findings an ignore file or a VEX statement suppresses are listed apart with
their reason, in every format. A distribution no feed covers, or an image
without packages, is a warning on stderr and in the report; with --fail-on
it exits 3.` + exitCodes,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			st, err := openForScan(ctx, g, &of, &ff)
			if err != nil {
				return err
			}
			defer st.Close()
			vr, warnings, missing, err := scanImage(ctx, g, st, args[0], platform, ff, skipUpdate, of.brief())
			if err != nil {
				return err
			}
			d := of.document(g.stderr, vr, args[0], warnings)
			if err := of.write(g.stdout, []*report.Document{d}, false); err != nil {
				return err
			}
			return of.verdict(g.stderr, []*report.Document{d}, missing)
		},
	}
	ff.register(c)
	of.register(c)
	g.dbFlag(c)
	c.Flags().BoolVar(&skipUpdate, "skip-update", false, "do not update the feeds first")
	c.Flags().StringVar(&platform, "platform", "linux/amd64", "platform to pick from a multi-platform image")
	return c
}

// exitCodes ends the --help of the commands with a gate.
const exitCodes = `

Exit status: 0 no finding at or above --fail-on (or no --fail-on); 1 a
finding at or above --fail-on; 2 an error; 3 --fail-on given but no data to
judge the image by.`

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
	if len(set) > 0 {
		// The enrichment feeds (nvd, epss, kev) serve every image that
		// has vulnerability data: scores, and a severity where the
		// distribution gives none. A bulky one (cvelist) is updated only
		// when named; what is stored of it is used.
		for _, f := range feed.All() {
			_, enricher := f.(feed.Enricher)
			_, bulky := f.(feed.Bulky)
			if enricher && !bulky {
				set[f.Name()] = true
			}
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
		return &missingDataError{feeds: missing}
	}
	return nil
}

// missingDataError names the feeds an image needs that have no data.
type missingDataError struct{ feeds []string }

func (e *missingDataError) Error() string {
	return fmt.Sprintf("no vulnerability data for %s: run 'clairctl update --only %s' (or give --feed NAME=URL)", strings.Join(e.feeds, ", "), strings.Join(e.feeds, ","))
}
