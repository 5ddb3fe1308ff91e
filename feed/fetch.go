package feed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/limit"
)

// MaxBodySize bounds what Get copies from one URL. Feeds are tens of
// megabytes; anything far larger is a misconfigured mirror or a hostile
// server, and it would fill the disk holding the snapshot. A variable so that
// tests (and an operator with a truly huge mirror) can change it.
var MaxBodySize int64 = 2 << 30

// maxListingSize bounds a directory listing page, which is read into memory.
const maxListingSize = 32 << 20

// StatusError is a non-2xx HTTP answer. It matches fs.ErrNotExist for 404 and
// 410, so callers treat a missing optional file the same whether it was asked
// of a web server or of a file:// tree.
type StatusError struct {
	URL        string // redacted: no password
	StatusCode int
	Status     string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("feed: %s: unexpected HTTP status %s", e.URL, e.Status)
}

// Is makes errors.Is(err, fs.ErrNotExist) true for "not found" statuses.
func (e *StatusError) Is(target error) bool {
	return target == fs.ErrNotExist && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone)
}

// fingerprint is what Get remembers of a download. It is serialized as JSON
// and opaque to callers; a prev that does not decode is treated as "none", so
// a fingerprint written by another feed version only costs one full download.
type fingerprint struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SHA256       string `json:"sha256,omitempty"`
	// Size and ModTime are set for file:// URLs only: they let an unchanged
	// local mirror be recognised without reading it.
	Size    int64  `json:"size,omitempty"`
	ModTime string `json:"mtime,omitempty"`
}

func parseFingerprint(s string) fingerprint {
	var fp fingerprint
	if s == "" || json.Unmarshal([]byte(s), &fp) != nil {
		return fingerprint{}
	}
	return fp
}

func (fp fingerprint) String() string {
	b, err := json.Marshal(fp)
	if err != nil { // cannot happen: strings and an int
		panic(err)
	}
	return string(b)
}

// Get copies the document at rawURL into dst and returns its fingerprint.
//
// rawURL is http(s)://…, file:///abs/path or a plain absolute path. prev is
// the fingerprint Get returned for the stored snapshot ("" for none).
//
// For HTTP, prev's ETag and Last-Modified are sent as If-None-Match and
// If-Modified-Since, and a 304 answer is ErrUnchanged after that one request.
// A 200 answer is streamed to dst while hashed; when the resulting
// fingerprint equals prev (same content and same validators, e.g. a server
// that ignores conditional requests or sends no validators) Get also returns
// ErrUnchanged, but only after dst was written: callers must discard dst
// whenever Get returns ErrUnchanged. When only the validators changed (same
// bytes, new ETag) Get reports a change so that the stored fingerprint learns
// the new validators and later checks are 304s again.
//
// For files, an unchanged size and modification time is ErrUnchanged without
// reading; otherwise the file is hashed first and copied only when its
// SHA-256 differs from prev's, so dst is untouched on ErrUnchanged.
//
// Timeouts come from ctx and c (nil means http.DefaultClient). A body larger
// than MaxBodySize is an error.
//
// A document served compressed (gzip, bzip2, xz or zstd, told by its first
// bytes, whatever its name or Content-Type says: mirrors keep
// tracker.json.gz) reaches dst decompressed, at most MaxBodySize bytes of
// it; the fingerprint is of the bytes as served. Feeds that keep an
// upstream archive as it is use GetRaw.
func Get(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	return get(ctx, c, rawURL, prev, dst, true)
}

// GetRaw is Get without the decompression: dst receives the bytes as
// served (an upstream .tar.zst a feed reads itself, documents a snapshot
// keeps compressed).
func GetRaw(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	return get(ctx, c, rawURL, prev, dst, false)
}

func get(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer, decode bool) (string, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return "", err
	}
	pfp := parseFingerprint(prev)
	if u.Scheme == "file" {
		return getFile(u, pfp, dst, decode)
	}
	return getHTTP(ctx, c, u, pfp, dst, decode)
}

// copyBody copies src to dst (decompressed when decode is set) while h
// hashes the bytes as served, every one of them: a decompressor that stops
// at its stream's end leaves the rest to be hashed too.
func copyBody(dst io.Writer, h hash.Hash, src io.Reader, decode bool) error {
	raw := io.TeeReader(limit.Reader(src, MaxBodySize), h)
	if !decode {
		_, err := io.Copy(dst, raw)
		return err
	}
	r, _, err := Decompress(raw, MaxBodySize)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.Copy(dst, r); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, raw)
	return err
}

// parseURL accepts http, https and file URLs, and plain absolute paths as
// file URLs (users type paths; the updater's config should not have to care).
func parseURL(rawURL string) (*url.URL, error) {
	if rawURL != "" && filepath.IsAbs(rawURL) && !strings.Contains(rawURL, "://") {
		return &url.URL{Scheme: "file", Path: filepath.ToSlash(rawURL)}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("feed: %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("feed: %s: URL has no host", u.Redacted())
		}
		return u, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("feed: %s: file URL with host %q (want file:///absolute/path)", rawURL, u.Host)
		}
		if u.Path == "" || !path.IsAbs(u.Path) {
			return nil, fmt.Errorf("feed: %s: file URL without an absolute path (want file:///absolute/path)", rawURL)
		}
		return u, nil
	}
	return nil, fmt.Errorf("feed: %s: unsupported URL scheme %q", u.Redacted(), u.Scheme)
}

// FilePath returns the local path a file:// URL (or plain absolute path)
// names; ok is false for any other URL. Feeds use it to treat a local
// directory differently from a download.
func FilePath(rawURL string) (p string, ok bool) {
	u, err := parseURL(rawURL)
	if err != nil || u.Scheme != "file" {
		return "", false
	}
	return filepath.FromSlash(u.Path), true
}

func getFile(u *url.URL, prev fingerprint, dst io.Writer, decode bool) (string, error) {
	p := filepath.FromSlash(u.Path)
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("feed: %s: %w", u, err)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("feed: %s: is a directory", u)
	}
	if fi.Size() > MaxBodySize {
		return "", fmt.Errorf("feed: %s: %d bytes, over the %d byte limit", u, fi.Size(), MaxBodySize)
	}
	mtime := fi.ModTime().UTC().Format(time.RFC3339Nano)
	if prev.SHA256 != "" && prev.Size == fi.Size() && prev.ModTime == mtime {
		return "", ErrUnchanged
	}
	if prev.SHA256 != "" {
		// Hash before copying: a touched but identical mirror file then
		// costs a read, not a parse, and dst stays empty as Fetch promises.
		sum, err := hashFile(p)
		if err != nil {
			return "", fmt.Errorf("feed: %s: %w", u, err)
		}
		if sum == prev.SHA256 {
			return "", ErrUnchanged
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("feed: %s: %w", u, err)
	}
	defer f.Close()
	// Stat the open file: size and mtime then describe what is read (or
	// older), so a file rewritten meanwhile is hashed again next time.
	if fi, err = f.Stat(); err != nil {
		return "", fmt.Errorf("feed: %s: %w", u, err)
	}
	h := sha256.New()
	if err := copyBody(dst, h, f, decode); err != nil {
		return "", fmt.Errorf("feed: %s: %w", u, err)
	}
	return fingerprint{
		SHA256:  hex.EncodeToString(h.Sum(nil)),
		Size:    fi.Size(),
		ModTime: fi.ModTime().UTC().Format(time.RFC3339Nano),
	}.String(), nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, limit.Reader(f, MaxBodySize)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func getHTTP(ctx context.Context, c *http.Client, u *url.URL, prev fingerprint, dst io.Writer, decode bool) (string, error) {
	if c == nil {
		c = http.DefaultClient
	}
	name := u.Redacted()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("feed: %s: %w", name, err)
	}
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("feed: GET %s: %w", name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		if prev.ETag == "" && prev.LastModified == "" {
			// We asked nothing conditional: a 304 says nothing about our copy.
			return "", &StatusError{URL: name, StatusCode: resp.StatusCode, Status: resp.Status}
		}
		return "", ErrUnchanged
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return "", &StatusError{URL: name, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > MaxBodySize {
		return "", fmt.Errorf("feed: GET %s: Content-Length %d over the %d byte limit", name, resp.ContentLength, MaxBodySize)
	}
	h := sha256.New()
	if err := copyBody(dst, h, resp.Body, decode); err != nil {
		return "", fmt.Errorf("feed: GET %s: %w", name, err)
	}
	fp := fingerprint{
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		SHA256:       hex.EncodeToString(h.Sum(nil)),
	}
	if fp == prev {
		return "", ErrUnchanged
	}
	return fp.String(), nil
}

// Listing is the content of a "directory" URL.
type Listing struct {
	// Entries are the direct children, sorted by name. Directories have Dir
	// set; their Name has no trailing slash.
	Entries []Entry
	// Digest is the hex SHA-256 of the listing as served: the page bytes for
	// HTTP (an nginx or Apache autoindex shows sizes and mtimes, so the
	// digest changes when a listed file does), names, sizes and modification
	// times for a file:// directory.
	Digest string
}

// Entry is one child of a listed directory.
type Entry struct {
	Name string
	Dir  bool
}

// List reads the directory at rawURL: a file:// (or absolute path) directory,
// or an http(s) URL serving an HTML index page whose relative links name the
// children (nginx autoindex: <a href="v3.18/">v3.18/</a>). Links that leave
// the directory, point deeper, or carry only a query (sort links) are ignored.
func List(ctx context.Context, c *http.Client, rawURL string) (*Listing, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return listFile(u)
	}
	if c == nil {
		c = http.DefaultClient
	}
	// Relative links resolve against the directory itself, so it must end in
	// a slash ("https://x/dir" would make "v3.18/" resolve to "https://x/v3.18/").
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	name := u.Redacted()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("feed: %s: %w", name, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("feed: GET %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{URL: name, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	body, err := limit.ReadAll(resp.Body, maxListingSize)
	if err != nil {
		return nil, fmt.Errorf("feed: GET %s: listing: %w", name, err)
	}
	sum := sha256.Sum256(body)
	return &Listing{Entries: parseIndex(u, body), Digest: hex.EncodeToString(sum[:])}, nil
}

func listFile(u *url.URL) (*Listing, error) {
	p := filepath.FromSlash(u.Path)
	des, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("feed: %s: %w", u, err)
	}
	h := sha256.New()
	l := &Listing{}
	for _, de := range des { // ReadDir sorts by name
		fi, err := de.Info()
		if err != nil {
			return nil, fmt.Errorf("feed: %s: %w", u, err)
		}
		isDir := fi.IsDir()
		if fi.Mode()&fs.ModeSymlink != 0 {
			// Follow links, as a web server would: mirrors are often
			// assembled from symlinks.
			if st, err := os.Stat(filepath.Join(p, de.Name())); err == nil {
				fi, isDir = st, st.IsDir()
			}
		}
		l.Entries = append(l.Entries, Entry{Name: de.Name(), Dir: isDir})
		fmt.Fprintf(h, "%s\x00%t\x00%d\x00%d\n", de.Name(), isDir, fi.Size(), fi.ModTime().UnixNano())
	}
	l.Digest = hex.EncodeToString(h.Sum(nil))
	return l, nil
}

// parseIndex extracts the direct children of base from the href attributes
// of an HTML index page. It is a scanner, not an HTML parser: autoindex pages
// are machine-written, and the only thing needed is the link targets.
func parseIndex(base *url.URL, page []byte) []Entry {
	seen := map[string]bool{}
	var out []Entry
	for _, ref := range hrefs(page) {
		ref = html.UnescapeString(ref)
		r, err := url.Parse(ref)
		if err != nil {
			continue
		}
		abs := base.ResolveReference(r)
		if abs.Scheme != base.Scheme || abs.Host != base.Host {
			continue
		}
		// Sort links ("?C=N;O=D") and anchors resolve to the directory
		// itself and leave nothing here.
		rest, ok := strings.CutPrefix(abs.Path, base.Path)
		if !ok || rest == "" {
			continue
		}
		dir := strings.HasSuffix(rest, "/")
		rest = strings.TrimSuffix(rest, "/")
		if rest == "" || rest == "." || rest == ".." || strings.Contains(rest, "/") {
			continue
		}
		if !seen[rest] {
			seen[rest] = true
			out = append(out, Entry{Name: rest, Dir: dir})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// hrefs returns the raw values of href attributes, quoted or not.
func hrefs(page []byte) []string {
	var out []string
	lower := bytes.ToLower(page)
	for i := 0; ; {
		j := bytes.Index(lower[i:], []byte("href"))
		if j < 0 {
			return out
		}
		k := i + j + len("href")
		i = k
		// Attribute names are preceded by whitespace; "xhref" is not href.
		if prev := i - len("href") - 1; prev >= 0 && !isSpace(page[prev]) {
			continue
		}
		for k < len(page) && isSpace(page[k]) {
			k++
		}
		if k >= len(page) || page[k] != '=' {
			continue
		}
		k++
		for k < len(page) && isSpace(page[k]) {
			k++
		}
		if k >= len(page) {
			return out
		}
		var end int
		switch q := page[k]; q {
		case '"', '\'':
			k++
			end = bytes.IndexByte(page[k:], q)
			if end < 0 {
				return out
			}
			end += k
		default:
			end = k
			for end < len(page) && !isSpace(page[end]) && page[end] != '>' {
				end++
			}
		}
		out = append(out, string(page[k:end]))
		i = end
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

// Digest is a helper for feeds that build a fingerprint from several parts:
// the hex SHA-256 of the parts, each length-prefixed so that ("ab","c") and
// ("a","bc") differ.
func Digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IsNotExist reports whether err says the document is absent (an HTTP 404 or
// 410, or a missing file).
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// Document is the part of a Feed whose snapshot is one document at a URL:
// its Name, DefaultURL and a Fetch by GetDocument (one conditional request
// when unchanged). Such a feed embeds it and adds Parse.
type Document struct {
	FeedName string
	URL      string
}

// Name implements Feed.
func (d Document) Name() string { return d.FeedName }

// DefaultURL implements Feed.
func (d Document) DefaultURL() string { return d.URL }

// Fetch implements Feed.
func (d Document) Fetch(ctx context.Context, c *http.Client, url, prev string, dst io.Writer) (string, error) {
	return GetDocument(ctx, d.FeedName, c, url, prev, dst)
}

// GetDocument is Get for a feed whose snapshot is one document: errors
// other than ErrUnchanged are prefixed with the feed's name.
func GetDocument(ctx context.Context, name string, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	fp, err := Get(ctx, c, rawURL, prev, dst)
	if err != nil && !errors.Is(err, ErrUnchanged) {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return fp, err
}
