package updater

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// An updaters bundle carries feeds' snapshots to a server that cannot reach
// them (air-gapped, disable_updaters: true), as Clair's clairctl
// export-updaters and import-updaters do. It is a zstd-compressed tar:
//
//	manifest.json    BundleManifest: the format, then per feed its name,
//	                 fingerprint, advisory count, file, size and SHA-256
//	feeds/<feed>     the snapshot the feed's Fetch wrote, one per feed
//
// The manifest comes first so that an importer streaming the bundle (from
// a URL) knows what each snapshot is before it arrives.
const (
	BundleFormat  = "clair-updaters-bundle"
	BundleVersion = 1
)

// maxManifest bounds the manifest, which is read into memory.
const maxManifest = 4 << 20

// MaxBundleSnapshot bounds one snapshot of a bundle being imported, which
// is spilled to a temporary file: a hostile or damaged manifest must not
// fill the disk. The largest real snapshots are a few hundred megabytes. A
// variable so that tests and an operator with a huge feed can change it.
var MaxBundleSnapshot int64 = 8 << 30

// BundleManifest is the bundle's manifest.json.
type BundleManifest struct {
	Format  string        `json:"format"`
	Version int           `json:"version"`
	Created time.Time     `json:"created"`
	Feeds   []BundleEntry `json:"feeds"`
}

// BundleEntry describes one feed's snapshot in a bundle.
type BundleEntry struct {
	Feed        string `json:"feed"`
	Fingerprint string `json:"fingerprint"`
	Advisories  int    `json:"advisories"`
	File        string `json:"file"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// ExportBundle fetches the current snapshot of each feed (from u.URLs or
// its default URL, ignoring what the store has), parses it to count and
// check it, and writes the bundle to w. Any feed failing fails the export:
// a bundle silently lacking a feed would leave the air-gapped server
// without it. Snapshots wait in u.TempDir until all are fetched.
func (u *Updater) ExportBundle(ctx context.Context, w io.Writer, feeds []feed.Feed) (*BundleManifest, error) {
	u.cleanOnce.Do(u.cleanTemp)
	m := &BundleManifest{Format: BundleFormat, Version: BundleVersion, Created: time.Now().UTC().Truncate(time.Second)}
	files := make([]*os.File, len(feeds))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
				os.Remove(f.Name())
			}
		}
	}()
	for i, f := range feeds {
		tmp, err := feed.CreateTemp(u.TempDir, "export-"+f.Name())
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", f.Name(), err)
		}
		files[i] = tmp
		url := u.url(f)
		h := sha256.New()
		fp, err := f.Fetch(ctx, u.client(), url, "", io.MultiWriter(tmp, h))
		if err != nil {
			return nil, fmt.Errorf("export %s: fetch %s: %w", f.Name(), url, err)
		}
		fi, err := tmp.Stat()
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", f.Name(), err)
		}
		n := 0
		if err := f.Parse(ctx, tmp, fi.Size(), func(*vuln.Advisory) error { n++; return nil }); err != nil {
			return nil, fmt.Errorf("export %s: %s: %w", f.Name(), url, err)
		}
		m.Feeds = append(m.Feeds, BundleEntry{
			Feed: f.Name(), Fingerprint: fp, Advisories: n,
			File: "feeds/" + f.Name(), Size: fi.Size(), SHA256: hex.EncodeToString(h.Sum(nil)),
		})
		u.log().Info("feed exported", "feed", f.Name(), "url", url, "advisories", n, "bytes", fi.Size())
	}
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	tw := tar.NewWriter(zw)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: m.Created, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr("manifest.json", int64(len(mb)))); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if _, err := tw.Write(mb); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for i, e := range m.Feeds {
		if err := tw.WriteHeader(hdr(e.File, e.Size)); err != nil {
			return nil, fmt.Errorf("export %s: %w", e.Feed, err)
		}
		if _, err := io.Copy(tw, io.NewSectionReader(files[i], 0, e.Size)); err != nil {
			return nil, fmt.Errorf("export %s: %w", e.Feed, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return m, nil
}

// ImportBundleURL imports the bundle at rawURL (a path, file:// or
// http(s)://), streamed through the feeds' fetch path (feed.GetRaw), so
// that the mirrors, proxies and TLS settings of feeds serve bundles too.
func (u *Updater) ImportBundleURL(ctx context.Context, rawURL string) ([]Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := feed.GetRaw(ctx, u.client(), rawURL, "", pw)
		pw.CloseWithError(err)
		done <- err
	}()
	res, err := u.ImportBundle(ctx, pr)
	pr.CloseWithError(errors.New("import: bundle reader stopped"))
	cancel()
	if gerr := <-done; err == nil && gerr != nil && !errors.Is(gerr, context.Canceled) {
		err = fmt.Errorf("import %s: %w", rawURL, gerr)
	}
	return res, err
}

// ImportBundle reads a bundle (zstd-compressed, as ExportBundle writes it,
// or a plain tar) and replaces each feed's snapshot in u.Store with the
// bundle's, one transaction per feed. A feed whose stored fingerprint is
// the bundle's is skipped without reading its snapshot; a feed this binary
// does not have is skipped with an error in its Result; a snapshot that
// loses most of a feed is refused unless u.Force (see ShrinkError). It
// returns one Result per manifest entry, in manifest order.
func (u *Updater) ImportBundle(ctx context.Context, r io.Reader) ([]Result, error) {
	u.cleanOnce.Do(u.cleanTemp)
	dr, _, err := feed.Decompress(r, 1<<40)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("import: not a bundle: %w", err)
	}
	if h.Name != "manifest.json" {
		return nil, fmt.Errorf("import: not a bundle: first entry %q, want manifest.json", h.Name)
	}
	mb, err := limit.ReadAll(tr, maxManifest)
	if err != nil {
		return nil, fmt.Errorf("import: manifest.json: %w", err)
	}
	var m BundleManifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("import: manifest.json: %w", err)
	}
	if m.Format != BundleFormat || m.Version != BundleVersion {
		return nil, fmt.Errorf("import: manifest.json: format %q version %d, want %q version %d", m.Format, m.Version, BundleFormat, BundleVersion)
	}
	res := make([]Result, len(m.Feeds))
	byFile := map[string]int{}
	for i, e := range m.Feeds {
		res[i] = Result{Feed: e.Feed, URL: "bundle:" + e.File}
		if e.Size > MaxBundleSnapshot {
			return nil, fmt.Errorf("import: manifest.json: feeds[%d] (%s): %d bytes, over the %d byte limit", i, e.Feed, e.Size, MaxBundleSnapshot)
		}
		if e.Feed == "" || path.Clean(e.File) != e.File || e.Size < 0 {
			return nil, fmt.Errorf("import: manifest.json: feeds[%d]: invalid entry (feed %q, file %q, size %d)", i, e.Feed, e.File, e.Size)
		}
		if _, dup := byFile[e.File]; dup {
			return nil, fmt.Errorf("import: manifest.json: feeds[%d]: file %q listed twice", i, e.File)
		}
		byFile[e.File] = i
	}
	seen := make([]bool, len(m.Feeds))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		i, ok := byFile[h.Name]
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		if seen[i] {
			return res, fmt.Errorf("import: %s: twice in the bundle", h.Name)
		}
		seen[i] = true
		res[i] = u.importOne(ctx, m.Feeds[i], tr, h.Size)
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
	}
	var errs []error
	for i, r := range res {
		if !seen[i] && r.Err == nil {
			res[i].Err = fmt.Errorf("import %s: %s is listed in manifest.json but not in the bundle", r.Feed, m.Feeds[i].File)
		}
		if res[i].Err != nil {
			errs = append(errs, res[i].Err)
		}
	}
	return res, errors.Join(errs...)
}

func (u *Updater) importOne(ctx context.Context, e BundleEntry, r io.Reader, size int64) (res Result) {
	start := time.Now()
	res = Result{Feed: e.Feed, URL: "bundle:" + e.File}
	defer func() { res.Duration = time.Since(start) }()
	fail := func(err error) Result {
		res.Err = fmt.Errorf("import %s: %w", e.Feed, err)
		return res
	}
	f, ok := feed.Lookup(e.Feed)
	if !ok {
		return fail(fmt.Errorf("no such feed in this binary (it has %s)", feedNames()))
	}
	if size != e.Size {
		return fail(fmt.Errorf("%s: %d bytes, manifest.json says %d", e.File, size, e.Size))
	}
	st, err := u.Store.FeedState(ctx, e.Feed)
	switch {
	case err == nil:
		if st.Fingerprint == e.Fingerprint {
			// The tar reader skips the entry's bytes unread.
			if err := u.Store.TouchFeed(ctx, e.Feed); err != nil {
				return fail(err)
			}
			res.Advisories = st.Advisories
			u.log().Info("feed unchanged", "feed", e.Feed, "source", res.URL)
			return res
		}
	case errors.Is(err, store.ErrNotFound):
	default:
		return fail(err)
	}
	tmp, err := feed.CreateTemp(u.TempDir, "import-"+e.Feed)
	if err != nil {
		return fail(err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, size)); err != nil {
		return fail(fmt.Errorf("%s: %w", e.File, err))
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != e.SHA256 {
		return fail(fmt.Errorf("%s: sha256 %s, manifest.json says %s", e.File, sum, e.SHA256))
	}
	op, err := u.replace(ctx, f, e.Fingerprint, tmp, size, st.Advisories)
	if err != nil {
		return fail(err)
	}
	res.Changed, res.Advisories = true, op.Advisories
	u.log().Info("feed imported", "feed", e.Feed, "advisories", op.Advisories, "took", time.Since(start).Round(time.Millisecond))
	return res
}

func feedNames() string {
	var names []string
	for _, f := range feed.All() {
		names = append(names, f.Name())
	}
	sort.Strings(names)
	b, _ := json.Marshal(names)
	return string(b)
}
