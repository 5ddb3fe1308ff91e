// Package repo2cpe is Red Hat's repository-to-CPE mapping as a feed
// (https://security.access.redhat.com/data/metrics/repository-to-cpe.json):
// for every "content set" (a Red Hat repository such as
// rhel-9-for-x86_64-baseos-rpms, as named in the content manifests Red Hat's
// build system writes into its images) the CPEs of the product streams it
// belongs to, the CPEs Red Hat's VEX statements name.
//
// # Why a feed
//
// The mapping changes whenever Red Hat adds or re-homes a repository. Applied
// when an image is indexed, it would be frozen into every index report: a
// content set unknown on that day would stay unmapped, and a corrected CPE
// would reach a report only by indexing the image again. The matcher applies
// it instead: index reports record content set names (scanner/rhel, which
// also fills in the CPE its embedded copy of the mapping gives, so that
// matching works offline and when this feed never ran), and at match time
// the CPEs this feed stores for a content set replace the recorded ones
// (match/qualify.go). Every report then follows the current mapping without
// re-indexing, and the mapping is fetched, fingerprinted, mirrored and
// overridden (a URL, a file:// copy) like every other feed.
//
// # How it is stored
//
// The store has one generic table, the advisories'. Each content set is one
// row in it: a vuln.Advisory in Namespace ("rhel-repo2cpe"), with Package
// and Name the content set, State vuln.StateNotAffected and Repositories its
// CPEs. No image has that namespace, so the rows never meet a package, and a
// "not affected" row is never reported; the matcher reads them with the
// store's ordinary Advisories(ctx, Namespace, contentSets) call.
package repo2cpe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "redhat-repo2cpe"

// DefaultURL is Red Hat's published mapping.
const DefaultURL = "https://security.access.redhat.com/data/metrics/repository-to-cpe.json"

// Namespace is the advisory namespace of the mapping rows. It is no
// distribution's: the rows are looked up by name, never matched.
const Namespace = vuln.RedHatRepo2CPENamespace

func init() { feed.Register(New()) }

// Feed is the repository-to-CPE mapping feed.
type Feed struct{}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{} }

// Name implements feed.Feed.
func (*Feed) Name() string { return Name }

// DefaultURL implements feed.Feed.
func (*Feed) DefaultURL() string { return DefaultURL }

// Fetch implements feed.Feed. The snapshot is the document as served; an
// unchanged document (ETag, Last-Modified or content hash) costs one request.
func (*Feed) Fetch(ctx context.Context, c *http.Client, url, prev string, dst io.Writer) (string, error) {
	return feed.GetDocument(ctx, "repo2cpe", c, url, prev, dst)
}

// entry is one content set's value under "data".
type entry struct {
	CPEs []string `json:"cpes"`
	// repo_relative_urls is not needed: content manifests name content sets.
}

// Parse implements feed.Feed. The document,
//
//	{"data": {"<content set>": {"cpes": [...], "repo_relative_urls": [...]}, ...}, "last_updated": "..."}
//
// plain or gzipped (a mirror may keep it compressed), is read token by
// token and one content set at a time. Content sets without CPEs are
// skipped: a row without CPEs would tell the matcher nothing. A document
// without any content set is an error, as storing it would silently drop
// the mapping.
func (*Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	// Snapshots written before feed.Get decompressed may hold the gzip.
	r, _, err := feed.Decompress(io.NewSectionReader(snap, 0, size), feed.MaxBodySize)
	if err != nil {
		return fmt.Errorf("repo2cpe: snapshot: %w", err)
	}
	defer r.Close()
	dec := json.NewDecoder(r)
	fail := func(what string, err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("repo2cpe: offset %d: %s: %w", dec.InputOffset(), what, err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail("top level", err)
	}
	n, sawData := 0, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("top level", err)
		}
		key, _ := tok.(string) // object keys are strings
		if key != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(fmt.Sprintf("%q", key), err)
			}
			continue
		}
		if sawData {
			return fail("data", errors.New("\"data\" given twice"))
		}
		sawData = true
		m, err := parseData(ctx, dec, fail, emit)
		if err != nil {
			return err
		}
		n += m
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fail("end of top level", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("top level", errors.New("data after the top-level object"))
	}
	if !sawData {
		return errors.New("repo2cpe: snapshot has no \"data\" object")
	}
	if n == 0 {
		return errors.New("repo2cpe: snapshot maps no content set to a CPE")
	}
	return nil
}

// parseData reads the "data" object and emits one row per content set with
// CPEs; it returns how many.
func parseData(ctx context.Context, dec *json.Decoder, fail func(string, error) error, emit func(*vuln.Advisory) error) (int, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return 0, fail("data", err)
	}
	n := 0
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("repo2cpe: %w", err)
		}
		tok, err := dec.Token()
		if err != nil {
			return n, fail("data: reading a content set name", err)
		}
		name, _ := tok.(string)
		var e entry
		if err := dec.Decode(&e); err != nil {
			return n, fail(fmt.Sprintf("content set %q", name), err)
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return n, fail("data", errors.New("empty content set name"))
		}
		cpes := make([]string, 0, len(e.CPEs))
		for _, c := range e.CPEs {
			if c = strings.TrimSpace(c); c != "" {
				cpes = append(cpes, c)
			}
		}
		if len(cpes) == 0 {
			continue
		}
		slices.Sort(cpes)
		cpes = slices.Compact(cpes)
		a := &vuln.Advisory{
			Feed:          Name,
			Name:          name,
			Namespace:     Namespace,
			Package:       name,
			VersionFormat: "rpm",
			State:         vuln.StateNotAffected,
			Repositories:  cpes,
		}
		if err := emit(a); err != nil {
			return n, fmt.Errorf("repo2cpe: content set %q: %w", name, err)
		}
		n++
	}
	if err := expectDelim(dec, '}'); err != nil {
		return n, fail("end of data", err)
	}
	return n, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("got %v, want %q", tokenString(tok), string(want))
	}
	return nil
}

func tokenString(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(v))
	case string:
		return fmt.Sprintf("string %q", v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
