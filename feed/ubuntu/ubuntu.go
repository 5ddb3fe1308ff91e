// Package ubuntu is the Ubuntu feed: Canonical's OSV records of CVEs
// (UBUNTU-CVE-*.json), as osv.dev exports them in Ubuntu/all.zip and as the
// ubuntu-security-notices repository keeps them under osv/cve/<year>/.
package ubuntu

import (
	"archive/zip"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/internal/osvschema"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "ubuntu"

// DefaultURL is osv.dev's export of every Ubuntu record.
const DefaultURL = "https://osv-vulnerabilities.storage.googleapis.com/Ubuntu/all.zip"

// maxRecord bounds one decompressed record: the largest real ones (kernel
// CVEs listing every linux-* source of every release) are a few megabytes;
// the bound keeps a zip bomb from exhausting memory.
const maxRecord = 64 << 20

func init() { feed.Register(New()) }

// Feed is the Ubuntu OSV feed.
type Feed struct{}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{} }

// Name implements feed.Feed.
func (*Feed) Name() string { return Name }

// DefaultURL implements feed.Feed.
func (*Feed) DefaultURL() string { return DefaultURL }

// isRecord selects the records this feed reads: per-CVE records. USN-*
// records repeat the same fixes per notice, and would double every advisory.
func isRecord(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(base, "UBUNTU-CVE-") && strings.HasSuffix(base, ".json")
}

// Fetch implements feed.Feed. The snapshot is always a zip of records:
// downloaded as is from a .zip URL (or any non-directory URL), or built
// from the records under a local directory (a checkout of
// ubuntu-security-notices, or an unpacked all.zip).
func (*Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	if p, ok := feed.FilePath(rawURL); ok {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return fetchDir(ctx, p, prev, dst)
		}
	} else if u, err := url.Parse(rawURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.HasSuffix(u.Path, "/") {
		// Walking tens of thousands of records over HTTP one request at a
		// time is no way to mirror this feed.
		return "", fmt.Errorf("ubuntu: %s: directories can only be read from file:// URLs; point at a .zip of the records (like %s) instead", u.Redacted(), DefaultURL)
	}
	fp, err := feed.Get(ctx, c, rawURL, prev, dst)
	if err != nil && !errors.Is(err, feed.ErrUnchanged) {
		return "", fmt.Errorf("ubuntu: %w", err)
	}
	return fp, err
}

type dirFile struct {
	rel   string // slash-separated, relative to the root
	size  int64
	mtime time.Time
}

// fetchDir zips the records under root. The fingerprint is a digest of the
// records' names, sizes and modification times, so that an unchanged tree is
// recognised from its metadata alone and nothing is written.
func fetchDir(ctx context.Context, root string, prev string, dst io.Writer) (string, error) {
	var files []dirFile
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			if de.Name() == ".git" {
				return filepath.SkipDir
			}
			return ctx.Err()
		}
		if !isRecord(de.Name()) {
			return nil
		}
		fi, err := os.Stat(p) // follows a symlinked record
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, dirFile{rel: filepath.ToSlash(rel), size: fi.Size(), mtime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("ubuntu: %w", err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("ubuntu: %s: no UBUNTU-CVE-*.json records under the directory", root)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	parts := make([]string, 0, len(files))
	for _, f := range files {
		parts = append(parts, fmt.Sprintf("%s %d %d", f.rel, f.size, f.mtime.UnixNano()))
	}
	fpb, _ := json.Marshal(struct {
		Tree  string `json:"tree"`
		Files int    `json:"files"`
	}{feed.Digest(parts...), len(files)})
	fp := string(fpb)
	if fp == prev {
		return "", feed.ErrUnchanged
	}

	zw := zip.NewWriter(dst)
	// The snapshot is a temporary file parsed once: speed over size.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	for i, f := range files {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return "", fmt.Errorf("ubuntu: %w", err)
			}
		}
		if err := addFile(zw, root, f); err != nil {
			return "", fmt.Errorf("ubuntu: %s: %w", f.rel, err)
		}
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("ubuntu: writing snapshot: %w", err)
	}
	return fp, nil
}

func addFile(zw *zip.Writer, root string, f dirFile) error {
	r, err := os.Open(filepath.Join(root, filepath.FromSlash(f.rel)))
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := zw.CreateHeader(&zip.FileHeader{Name: f.rel, Method: zip.Deflate, Modified: f.mtime})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, limit.Reader(r, maxRecord))
	return err
}

// Parse implements feed.Feed: it reads the zip's records one at a time.
func (*Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	zr, err := zip.NewReader(snap, size)
	if err != nil {
		return fmt.Errorf("ubuntu: snapshot: %w", err)
	}
	records := 0
	for i, f := range zr.File {
		if !isRecord(f.Name) || f.FileInfo().IsDir() {
			continue
		}
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("ubuntu: %w", err)
			}
		}
		b, err := readRecord(f)
		if err != nil {
			return fmt.Errorf("ubuntu: %s: %w", f.Name, err)
		}
		if err := parseRecord(f.Name, b, emit); err != nil {
			return err
		}
		records++
	}
	if records == 0 {
		// An empty snapshot would silently wipe every Ubuntu advisory.
		return errors.New("ubuntu: snapshot holds no UBUNTU-CVE-*.json records")
	}
	return nil
}

func readRecord(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxRecord {
		return nil, fmt.Errorf("record of %d bytes, over the %d byte limit", f.UncompressedSize64, maxRecord)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return limit.ReadAll(r, maxRecord)
}

// The OSV record types, shared with the other OSV reader.
type (
	record = osvschema.Record
	event  = osvschema.Event
)

func parseRecord(name string, b []byte, emit func(*vuln.Advisory) error) error {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("ubuntu: %s: offset %d: %w", name, se.Offset, err)
		}
		return fmt.Errorf("ubuntu: %s: %w", name, err)
	}
	if r.ID == "" {
		return fmt.Errorf("ubuntu: %s: id is empty", name)
	}
	if r.Withdrawn != "" {
		return nil // retracted by Canonical: not a statement any more
	}
	var issued time.Time
	if r.Published != "" {
		t, err := time.Parse(time.RFC3339, r.Published)
		if err != nil {
			return fmt.Errorf("ubuntu: %s (%s): published: %w", name, r.ID, err)
		}
		issued = t
	}
	vname := cveName(&r)
	aliases := []string{r.ID}
	for _, a := range append(append([]string(nil), r.Aliases...), r.Upstream...) {
		if a != "" && a != vname && !contains(aliases, a) {
			aliases = append(aliases, a)
		}
	}
	var links []string
	for _, ref := range r.References {
		if ref.URL != "" && !contains(links, ref.URL) {
			links = append(links, ref.URL)
		}
	}
	// Every advisory of the record shares these; clipped so that an append
	// by a consumer copies instead of writing into a neighbour's slice.
	aliases, links = slices.Clip(aliases), slices.Clip(links)
	sev, norm := "", vuln.Unknown
	for _, s := range r.Severity {
		if s.Type == "Ubuntu" {
			sev = strings.ToLower(strings.TrimSpace(s.Score))
			norm = normalize(sev)
			break
		}
	}

	for i, af := range r.Affected {
		ns, ok := namespace(af.Package.Ecosystem)
		if !ok {
			// Another distribution's ecosystem, or an Ubuntu one this code
			// does not know: no image can be in its namespace.
			continue
		}
		if af.Package.Name == "" {
			return fmt.Errorf("ubuntu: %s (%s): affected[%d]: package.name is empty", name, r.ID, i)
		}
		a := &vuln.Advisory{
			Name:               vname,
			Namespace:          ns,
			Package:            af.Package.Name,
			VersionFormat:      "dpkg",
			Versions:           nonEmpty(af.Versions),
			Severity:           sev,
			NormalizedSeverity: norm,
			Description:        r.Details,
			Links:              links,
			Issued:             issued,
			Aliases:            aliases,
		}
		fixed, bounded := false, false
		for _, rg := range af.Ranges {
			if rg.Type != "ECOSYSTEM" {
				continue // GIT or SEMVER ranges say nothing about dpkg versions
			}
			for _, rr := range ranges(rg.Events) {
				if rr.Fixed != "" {
					fixed = true
					a.FixedIn = rr.Fixed
				}
				if rr.LastAffected != "" {
					bounded = true
				}
				if rr != (vuln.Range{}) { // {} is "every version": the state says that
					a.Ranges = append(a.Ranges, rr)
				}
			}
		}
		switch {
		case fixed, bounded:
			a.State = vuln.StateAffected
		default:
			a.State = vuln.StateUnfixed
		}
		if err := emit(a); err != nil {
			return err
		}
	}
	return nil
}

// ranges turns OSV events into ranges: each "introduced" opens one, the next
// "fixed" or "last_affected" closes it; "introduced": "0" is the beginning of
// time. "limit" is for git ranges and ignored.
func ranges(evs []event) []vuln.Range {
	var out []vuln.Range
	var cur *vuln.Range
	for _, e := range evs {
		switch {
		case e.Introduced != "":
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &vuln.Range{}
			if e.Introduced != "0" {
				cur.Introduced = e.Introduced
			}
		case e.Fixed != "", e.LastAffected != "":
			if cur == nil {
				cur = &vuln.Range{}
			}
			cur.Fixed, cur.LastAffected = e.Fixed, e.LastAffected
			if cur.Fixed != "" {
				cur.LastAffected = "" // a range has one upper bound
			}
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// cveName is the id the report shows: the CVE the record is about.
func cveName(r *record) string {
	for _, list := range [][]string{r.Upstream, r.Aliases} {
		for _, id := range list {
			if strings.HasPrefix(id, "CVE-") {
				return id
			}
		}
	}
	if n, ok := strings.CutPrefix(r.ID, "UBUNTU-"); ok && n != "" {
		return n
	}
	return r.ID
}

var releaseRE = regexp.MustCompile(`^[0-9]{2}\.[0-9]{2}$`)

// namespace maps an OSV Ubuntu ecosystem to the advisory namespace:
//
//	Ubuntu:20.04:LTS          -> ubuntu:20.04
//	Ubuntu:24.10              -> ubuntu:24.10
//	Ubuntu:Pro:16.04:LTS      -> ubuntu-pro:16.04
//	Ubuntu:Pro:FIPS:20.04:LTS -> ubuntu-pro-fips:20.04
//
// Pro (ESM) fixes exist only for Pro subscribers: an image without Pro has
// none of those versions, so they live in their own namespaces, which the
// matcher does not consult by default. FIPS and other Pro variants ship
// their own builds of a package, so their statements are kept apart from
// plain Pro's too.
func namespace(eco string) (string, bool) {
	parts := strings.Split(eco, ":")
	if len(parts) < 2 || parts[0] != "Ubuntu" {
		return "", false
	}
	parts = parts[1:]
	prefix := "ubuntu"
	if parts[0] == "Pro" {
		prefix, parts = "ubuntu-pro", parts[1:]
		if len(parts) > 1 && !releaseRE.MatchString(parts[0]) {
			v := strings.ToLower(parts[0])
			if !variantRE.MatchString(v) {
				return "", false
			}
			prefix, parts = prefix+"-"+v, parts[1:]
		}
	}
	if len(parts) == 0 || !releaseRE.MatchString(parts[0]) {
		return "", false
	}
	if len(parts) > 2 || len(parts) == 2 && parts[1] != "LTS" {
		return "", false
	}
	return prefix + ":" + parts[0], true
}

var variantRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// normalize maps Ubuntu's priority to Clair's scale.
func normalize(p string) vuln.Severity {
	switch p {
	case "negligible":
		return vuln.Negligible
	case "low":
		return vuln.Low
	case "medium":
		return vuln.Medium
	case "high":
		return vuln.High
	case "critical":
		return vuln.Critical
	}
	return vuln.Unknown // "untriaged" and anything new
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func nonEmpty(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
