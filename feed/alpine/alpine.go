// Package alpine is the Alpine Linux secdb feed (https://secdb.alpinelinux.org/):
// one JSON file per branch and repository, vX.Y/main.json and
// vX.Y/community.json (and edge/…), listing for each origin package the
// versions that fixed which vulnerabilities ("secfixes").
package alpine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/internal/redact"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "alpine"

// DefaultURL is the secdb root; its index page lists the branches.
const DefaultURL = "https://secdb.alpinelinux.org/"

// linkPrefix + id is Alpine's security tracker page of a vulnerability.
const linkPrefix = "https://security.alpinelinux.org/vuln/"

// repos are the secdb files of a branch. testing has no secdb.
var repos = []string{"main", "community"}

// maxFile bounds one secdb file, which Fetch holds in memory to learn its
// size for the tar header. Real files are a few hundred kilobytes.
const maxFile = 64 << 20

// branchRE matches the branch directories of the secdb root.
var branchRE = regexp.MustCompile(`^(v[0-9]+\.[0-9]+|edge)$`)

func init() { feed.Register(New()) }

// Feed is the Alpine secdb feed.
type Feed struct{}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{} }

// Name implements feed.Feed.
func (*Feed) Name() string { return Name }

// DefaultURL implements feed.Feed.
func (*Feed) DefaultURL() string { return DefaultURL }

// fingerprint identifies a secdb state by its root listing. nginx's
// autoindex shows each entry's mtime (and secdb's root has a last-update
// file), so an unchanged listing means an unchanged secdb and the check
// costs one request. For a file:// tree, which has no such page, the stat of
// every branch file is folded in instead.
type fingerprint struct {
	Listing string `json:"listing"`
}

// Fetch implements feed.Feed. The snapshot is a tar stream of the branch
// files, named "v3.18/main.json", "edge/community.json", ...
func (*Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	l, err := feed.List(ctx, c, rawURL)
	if err != nil {
		return "", fmt.Errorf("alpine: %w", err)
	}
	var branches []string
	for _, e := range l.Entries {
		if branchRE.MatchString(e.Name) {
			branches = append(branches, e.Name)
		}
	}
	if len(branches) == 0 {
		return "", fmt.Errorf("alpine: %s: no branch directories (v3.N/, edge/) in the listing", redact.URL(rawURL))
	}
	local, isLocal := feed.FilePath(rawURL)
	digest := l.Digest
	if isLocal {
		parts := []string{digest}
		for _, b := range branches {
			for _, r := range repos {
				fi, err := os.Stat(filepath.Join(local, b, r+".json"))
				if err != nil {
					if errors.Is(err, os.ErrNotExist) {
						continue
					}
					return "", fmt.Errorf("alpine: %w", err)
				}
				parts = append(parts, fmt.Sprintf("%s/%s %d %d", b, r, fi.Size(), fi.ModTime().UnixNano()))
			}
		}
		digest = feed.Digest(parts...)
	}
	fpb, _ := json.Marshal(fingerprint{Listing: digest})
	fp := string(fpb)
	if fp == prev {
		return "", feed.ErrUnchanged
	}

	var base *url.URL
	if !isLocal {
		if base, err = url.Parse(rawURL); err != nil { // List parsed it already
			return "", fmt.Errorf("alpine: %w", err)
		}
		if !strings.HasSuffix(base.Path, "/") {
			base.Path += "/"
			base.RawPath = ""
		}
	}
	sw := snapshot.NewWriter(dst)
	var buf bytes.Buffer
	n := 0
	for _, b := range branches {
		for _, r := range repos {
			name := b + "/" + r + ".json"
			var src string
			if isLocal {
				src = filepath.Join(local, b, r+".json")
			} else {
				src = base.ResolveReference(&url.URL{Path: name}).String()
			}
			buf.Reset()
			_, err := feed.Get(ctx, c, src, "", limit.Writer(&buf, maxFile))
			if feed.IsNotExist(err) {
				// Old branches have no community repository.
				continue
			}
			if err != nil {
				return "", fmt.Errorf("alpine: %s: %w", name, err)
			}
			if err := sw.Add(name, buf.Bytes()); err != nil {
				return "", fmt.Errorf("alpine: writing snapshot: %w", err)
			}
			n++
		}
	}
	if n == 0 {
		return "", fmt.Errorf("alpine: %s: no secdb files (main.json, community.json) under %d branch directories", redact.URL(rawURL), len(branches))
	}
	if err := sw.Close(); err != nil {
		return "", fmt.Errorf("alpine: writing snapshot: %w", err)
	}
	return fp, nil
}

// Parse implements feed.Feed: it reads the tar Fetch wrote and decodes each
// secdb file one package at a time.
func (*Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	files := 0
	var perr error
	err := snapshot.Walk(ctx, snap, size, func(e snapshot.Entry) error {
		if !strings.HasSuffix(e.Name, ".json") {
			return nil
		}
		files++
		perr = parseFile(e.Name, e.Data, emit)
		return perr
	})
	switch {
	case perr != nil:
		return perr
	case err != nil:
		return fmt.Errorf("alpine: %w", err)
	}
	if files == 0 {
		// An empty snapshot would silently wipe every Alpine advisory.
		return errors.New("alpine: snapshot holds no secdb files")
	}
	return nil
}

// pkgEntry is one element of a secdb file's "packages".
type pkgEntry struct {
	Pkg struct {
		Name string `json:"name"`
		// Secfixes maps a fixed version to the vulnerabilities it fixed;
		// version "0" lists those the package was never affected by.
		Secfixes map[string][]string `json:"secfixes"`
	} `json:"pkg"`
}

// parseFile decodes one secdb file. The namespace comes from the file's
// "distroversion"; when that is absent (or comes only after "packages",
// which the stream has passed by then) the branch directory of the tar entry,
// which Fetch took from upstream's layout, stands in.
func parseFile(name string, r io.Reader, emit func(*vuln.Advisory) error) error {
	dec := json.NewDecoder(r)
	fail := func(what string, err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("alpine: %s: %s (offset %d): %w", name, what, dec.InputOffset(), err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail("top level", err)
	}
	distro := ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("top level", err)
		}
		key, _ := tok.(string)
		switch key {
		case "distroversion":
			if err := dec.Decode(&distro); err != nil {
				return fail("distroversion", err)
			}
		case "packages":
			ns, err := namespace(distro, path.Base(path.Dir(name)))
			if err != nil {
				return fail("distroversion", err)
			}
			if err := parsePackages(dec, ns, fail, emit); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(key, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fail("top level", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("top level", errors.New("data after the top-level object"))
	}
	return nil
}

func parsePackages(dec *json.Decoder, ns string, fail func(string, error) error, emit func(*vuln.Advisory) error) error {
	tok, err := dec.Token()
	if err != nil {
		return fail("packages", err)
	}
	if tok == nil { // "packages": null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fail("packages", fmt.Errorf("got %v, want an array", tok))
	}
	for i := 0; dec.More(); i++ {
		var p pkgEntry
		if err := dec.Decode(&p); err != nil {
			return fail(fmt.Sprintf("packages[%d]", i), err)
		}
		if p.Pkg.Name == "" {
			return fail(fmt.Sprintf("packages[%d]", i), errors.New("pkg.name is empty"))
		}
		if err := emitPackage(ns, p.Pkg.Name, p.Pkg.Secfixes, emit); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, ']'); err != nil {
		return fail("packages", err)
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("got %v, want %q", tok, string(want))
	}
	return nil
}

// namespace maps a secdb distroversion ("v3.18", "edge") to the advisory
// namespace, falling back on the branch directory.
func namespace(distro, dir string) (string, error) {
	if branchRE.MatchString(distro) {
		return "alpine:" + distro, nil
	}
	if branchRE.MatchString(dir) {
		return "alpine:" + dir, nil
	}
	return "", fmt.Errorf("neither distroversion %q nor directory %q names a branch (v3.N, edge)", distro, dir)
}

func emitPackage(ns, pkg string, secfixes map[string][]string, emit func(*vuln.Advisory) error) error {
	versions := make([]string, 0, len(secfixes))
	for v := range secfixes {
		versions = append(versions, v)
	}
	sort.Strings(versions) // map order is random; output should not be
	for _, key := range versions {
		ver := strings.TrimSpace(key)
		if ver == "" {
			// Nothing can be said without a version; one sloppy entry
			// should not stop the whole feed.
			continue
		}
		seen := map[string]bool{}
		for _, entry := range secfixes[key] {
			names, aliases := ids(entry)
			for _, id := range names {
				if seen[id] {
					continue
				}
				seen[id] = true
				a := &vuln.Advisory{
					Name:               id,
					Namespace:          ns,
					Package:            pkg,
					VersionFormat:      "apk",
					NormalizedSeverity: vuln.Unknown,
					Links:              []string{linkPrefix + id},
					Aliases:            slices.Clone(aliases),
				}
				if ver == "0" {
					a.State = vuln.StateNotAffected
				} else {
					a.State = vuln.StateAffected
					a.Ranges = []vuln.Range{{Fixed: ver}}
					a.FixedIn = ver
				}
				if err := emit(a); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var (
	// cveRE finds a CVE id at the start of a token, also in the sloppy
	// spellings secdb has ("CVE_2019-2426", "CVE-2021-35940.patch",
	// "CVE-2017-17434-1").
	cveRE = regexp.MustCompile(`^(?i:cve)[-_]([0-9]{4})-([0-9]{4,})`)
	// otherRE is any other advisory id: GHSA-…, XSA-213, ALPINE-13661,
	// TALOS-2017-0488, GNUTLS-SA-2020-03-31, wnpa-sec-2017-18, VSV00010.
	otherRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+|[A-Z]{2,}[0-9]+)$`)
)

// ids reads one secfixes entry. Entries are usually one CVE id, but some hold
// several ids ("CVE-2020-11740 CVE-2020-11741 XSA-313"), notes
// ("CVE-2018-14468 (FrameRelay)") or placeholders ("CVE-????-????? XSA-312").
// When the entry names CVEs, each CVE is an advisory and the other ids (the
// Xen, Talos, GnuTLS… numbers of the same flaw) are its aliases, so one flaw
// is not reported twice; otherwise each id is an advisory of its own.
func ids(entry string) (names, aliases []string) {
	var cves, others []string
	for _, f := range strings.Fields(entry) {
		if strings.HasPrefix(f, "(") {
			break // the rest is a comment
		}
		f = strings.Trim(f, ",;:")
		if m := cveRE.FindStringSubmatch(f); m != nil {
			cves = appendNew(cves, "CVE-"+m[1]+"-"+m[2])
			continue
		}
		if strings.HasPrefix(strings.ToUpper(f), "CVE") {
			continue // "CVE-????-?????", "CVE-46838", "CVE N/A": no id
		}
		if otherRE.MatchString(f) {
			others = appendNew(others, f)
		}
	}
	if len(cves) == 0 {
		return others, nil
	}
	return cves, others
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
