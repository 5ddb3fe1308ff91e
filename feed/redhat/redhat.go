// Package redhat is the Red Hat CSAF VEX feed
// (https://security.access.redhat.com/data/csaf/v2/vex/): one CSAF 2.0 VEX
// document per CVE saying, for every Red Hat product stream, which package
// builds fixed it, which are affected without a fix, and which are not
// affected.
//
// Upstream publishes a dated archive of every document (named by
// archive_latest.txt), and changes.csv / deletions.csv listing the documents
// changed or removed since, each with a timestamp. Fetch rebuilds the current
// set from those three: the archive, minus what was deleted, with changed
// documents downloaded afresh.
package redhat

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "redhat"

// DefaultURL is the VEX directory.
const DefaultURL = "https://security.access.redhat.com/data/csaf/v2/vex/"

// Upstream's index files, relative to the directory.
const (
	latestFile    = "archive_latest.txt"
	changesFile   = "changes.csv"
	deletionsFile = "deletions.csv"
)

// Bounds for what is held in memory: the index files (changes.csv lists
// every document, a few megabytes) and one changed document.
const (
	maxIndex = 256 << 20
	maxFile  = maxDoc
)

// trailerName is the last entry of a snapshot. Parse refuses a snapshot
// without it, so a cut-short file is an error rather than a partial feed.
const trailerName = ".snapshot-complete"

func init() { feed.Register(New()) }

// Feed is the Red Hat VEX feed.
type Feed struct{}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{} }

// Name implements feed.Feed.
func (*Feed) Name() string { return Name }

// DefaultURL implements feed.Feed.
func (*Feed) DefaultURL() string { return DefaultURL }

// fingerprint is what Fetch remembers. Archive and Latest identify the data
// (the archive and the newest change applied on top of it); Changes holds
// changes.csv's validators so that the unchanged case costs one conditional
// request.
type fingerprint struct {
	Archive string `json:"archive"`
	Latest  string `json:"latest"`
	Changes string `json:"changes,omitempty"`
}

// change is one row of changes.csv or deletions.csv.
type change struct {
	path string
	at   time.Time
}

// Fetch implements feed.Feed. The snapshot is a zstd-compressed tar of the
// current VEX documents under their upstream paths ("2024/cve-2024-0727.json"),
// ending with a trailer entry.
//
// Only changes.csv is asked for when checking for news: every new document,
// every edit and every new archive shows up there (a new archive holds no
// document that changes.csv did not list since the previous one). A deletion
// alone does not, so it is applied with the next change, which comes within
// hours upstream.
func (*Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	base, err := dirURL(rawURL)
	if err != nil {
		return "", err
	}
	var pfp fingerprint
	if prev != "" && json.Unmarshal([]byte(prev), &pfp) != nil {
		pfp = fingerprint{}
	}

	var buf bytes.Buffer
	changesFP, err := feed.Get(ctx, c, base+changesFile, pfp.Changes, limit.Writer(&buf, maxIndex))
	if errors.Is(err, feed.ErrUnchanged) {
		return "", feed.ErrUnchanged
	}
	if err != nil {
		return "", fmt.Errorf("redhat: %s: %w", changesFile, err)
	}
	changes, err := parseChanges(changesFile, buf.Bytes())
	if err != nil {
		return "", err
	}
	latest := ""
	for _, ch := range changes {
		if s := ch.at.Format(time.RFC3339); s > latest {
			latest = s
		}
	}

	buf.Reset()
	if _, err := feed.Get(ctx, c, base+latestFile, "", limit.Writer(&buf, 4096)); err != nil {
		return "", fmt.Errorf("redhat: %s: %w", latestFile, err)
	}
	archive := strings.TrimSpace(buf.String())
	if archive == "" || strings.ContainsAny(archive, "/\\?#") || strings.Contains(archive, "..") || !strings.HasSuffix(archive, ".tar.zst") {
		return "", fmt.Errorf("redhat: %s: %q does not name a .tar.zst archive in the directory", latestFile, archive)
	}
	fp := fingerprint{Archive: archive, Latest: latest, Changes: changesFP}
	if fp.Archive == pfp.Archive && fp.Latest == pfp.Latest && pfp.Latest != "" {
		// changes.csv was rewritten (new validators) without news.
		return "", feed.ErrUnchanged
	}

	buf.Reset()
	var deletions []change
	if _, err := feed.Get(ctx, c, base+deletionsFile, "", limit.Writer(&buf, maxIndex)); err != nil {
		if !feed.IsNotExist(err) {
			return "", fmt.Errorf("redhat: %s: %w", deletionsFile, err)
		}
	} else if deletions, err = parseChanges(deletionsFile, buf.Bytes()); err != nil {
		return "", err
	}

	// Documents changed on or after the archive's day are downloaded: the
	// archive is built during that day, so a change of the same day may or
	// may not be in it, and fetching it again is harmless. Without a date
	// in the name every change is applied.
	since := archiveDate(archive)
	final := map[string]time.Time{} // path -> newest change to download
	for _, ch := range changes {
		if ch.at.Before(since) {
			continue
		}
		if t, ok := final[ch.path]; !ok || ch.at.After(t) {
			final[ch.path] = ch.at
		}
	}
	deleted := map[string]bool{}
	for _, d := range deletions {
		// A document deleted and later re-published is kept.
		if t, ok := final[d.path]; ok && !d.at.Before(t) {
			delete(final, d.path)
		}
		if _, ok := final[d.path]; !ok {
			deleted[d.path] = true
		}
	}

	zw, err := zstd.NewWriter(dst, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return "", fmt.Errorf("redhat: writing snapshot: %w", err)
	}
	// The encoder writes to dst from its own goroutines: every return must
	// wait for them, or dst is written after Fetch has returned. Close
	// after a successful Close is a no-op.
	defer zw.Close()
	tw := snapshot.NewWriter(zw)
	n, err := copyArchive(ctx, c, base+archive, archive, tw, func(p string) bool {
		_, changed := final[p]
		return !changed && !deleted[p]
	})
	if err != nil {
		return "", err
	}
	paths := make([]string, 0, len(final))
	for p := range final {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("redhat: %w", err)
		}
		buf.Reset()
		_, err := feed.Get(ctx, c, base+p, "", limit.Writer(&buf, maxFile))
		if feed.IsNotExist(err) {
			// Listed as changed but gone: deleted since, and deletions.csv
			// will say so. The archive's copy, if any, is stale either way.
			continue
		}
		if err != nil {
			return "", fmt.Errorf("redhat: %s: %w", p, err)
		}
		if err := tw.Add(p, buf.Bytes()); err != nil {
			return "", fmt.Errorf("redhat: writing snapshot: %w", err)
		}
		n++
	}
	if n == 0 {
		// An empty snapshot would silently wipe every Red Hat advisory.
		return "", fmt.Errorf("redhat: %s: no VEX documents in %s nor in %s", base, archive, changesFile)
	}
	if err := tw.Add(trailerName, []byte(strconv.Itoa(n)+"\n")); err != nil {
		return "", fmt.Errorf("redhat: writing snapshot: %w", err)
	}
	if err := tw.Close(); err != nil {
		return "", fmt.Errorf("redhat: writing snapshot: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("redhat: writing snapshot: %w", err)
	}
	b, _ := json.Marshal(fp)
	return string(b), nil
}

// copyArchive streams the upstream archive's VEX documents for which keep is
// true into tw, without holding the archive: it goes from the HTTP body
// through the zstd decoder and the tar reader to the snapshot. Any damage
// (a truncated download, a bad frame) is an error.
func copyArchive(ctx context.Context, c *http.Client, src, name string, tw *snapshot.Writer, keep func(string) bool) (int, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := feed.GetRaw(ctx, c, src, "", pw)
		pw.CloseWithError(err)
		done <- err
	}()
	n, err := copyTar(ctx, pr, name, tw, keep)
	// Unblock the download if the reader stopped early, then wait for it.
	pr.CloseWithError(errors.New("redhat: archive reader stopped"))
	if gerr := <-done; err == nil && gerr != nil {
		err = fmt.Errorf("redhat: %s: %w", name, gerr)
	}
	return n, err
}

func copyTar(ctx context.Context, r io.Reader, name string, tw *snapshot.Writer, keep func(string) bool) (int, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return 0, fmt.Errorf("redhat: %s: %w", name, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("redhat: %s: after %d documents: %w", name, n, err)
		}
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("redhat: %w", err)
		}
		p := cleanPath(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !strings.HasSuffix(p, ".json") || !keep(p) {
			continue
		}
		if hdr.Size > maxFile {
			return n, fmt.Errorf("redhat: %s: %s: %d bytes, over the %d byte limit", name, p, hdr.Size, maxFile)
		}
		if err := tw.AddReader(p, hdr.Size, tr); err != nil {
			return n, fmt.Errorf("redhat: %s: %w", name, err)
		}
		n++
	}
	// The tar end marker can come before the zstd stream's end; reading
	// on checks the rest of the compressed data (and its checksum) too.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return n, fmt.Errorf("redhat: %s: %w", name, err)
	}
	return n, nil
}

// cleanPath makes archive and index paths comparable: "./2024/x.json" and
// "2024/x.json" are one document.
func cleanPath(p string) string {
	return strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(p, "./")), "/")
}

var dateRE = regexp.MustCompile(`(\d{4}-\d{2}-\d{2})`)

// archiveDate reads the day an archive was made from its name
// ("csaf_vex_2024-11-10.tar.zst"); the zero time when it has none.
func archiveDate(name string) time.Time {
	m := dateRE.FindString(name)
	if m == "" {
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02", m)
	if err != nil {
		return time.Time{}
	}
	return t
}

// parseChanges reads changes.csv or deletions.csv: rows of "path","RFC 3339
// time".
func parseChanges(name string, b []byte) ([]change, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var out []change
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("redhat: %s: %w", name, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("redhat: %s: line %d: %d fields, want path and time", name, line, len(rec))
		}
		p := cleanPath(strings.TrimSpace(rec[0]))
		if !strings.HasSuffix(p, ".json") {
			continue // a header row, or something that is not a document
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[1]))
		if err != nil {
			return nil, fmt.Errorf("redhat: %s: line %d: time: %w", name, line, err)
		}
		out = append(out, change{path: p, at: at.UTC()})
	}
}

// dirURL makes the configured URL a directory URL ending in "/", so that
// names append to it. File URLs and paths work the same way.
func dirURL(rawURL string) (string, error) {
	if p, ok := feed.FilePath(rawURL); ok {
		u := url.URL{Scheme: "file", Path: strings.TrimSuffix(strings.ReplaceAll(p, "\\", "/"), "/") + "/"}
		return u.String(), nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("redhat: %q: want an http(s) or file URL of the VEX directory", rawURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u.String(), nil
}

// Parse implements feed.Feed: it reads the snapshot Fetch wrote one document
// at a time.
func (*Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	zr, err := zstd.NewReader(io.NewSectionReader(snap, 0, size), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return fmt.Errorf("redhat: snapshot: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	docs, complete := 0, false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("redhat: snapshot: after %d documents: %w", docs, err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("redhat: %w", err)
		}
		if hdr.Name == trailerName {
			complete = true
			continue
		}
		if hdr.Typeflag != tar.TypeReg || !strings.HasSuffix(hdr.Name, ".json") {
			continue
		}
		if err := parseDoc(hdr.Name, tr, emit); err != nil {
			return err
		}
		docs++
	}
	if !complete {
		return fmt.Errorf("redhat: snapshot: cut short after %d documents (no %s entry)", docs, trailerName)
	}
	if docs == 0 {
		return errors.New("redhat: snapshot holds no VEX documents")
	}
	return nil
}
