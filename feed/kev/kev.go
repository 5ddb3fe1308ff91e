// Package kev is CISA's Known Exploited Vulnerabilities catalog
// (https://www.cisa.gov/known-exploited-vulnerabilities-catalog), an
// enrichment feed: one JSON document listing the CVEs known to be exploited
// in the wild, with the date each was added, the federal remediation due
// date and whether ransomware campaigns are known to use it.
package kev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "kev"

// DefaultURL is CISA's catalog.
const DefaultURL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"

func init() { feed.Register(New()) }

// Feed is the KEV feed.
type Feed struct{ feed.Document }

var _ feed.Enricher = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{feed.Document{FeedName: Name, URL: DefaultURL}} }

// Parse implements feed.Feed. The catalog holds no advisories; Parse reads
// it through, so that a broken snapshot is an error whichever way it is
// read.
func (f *Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, _ func(*vuln.Advisory) error) error {
	return f.ParseEnrichments(ctx, snap, size, func(*vuln.Enrichment) error { return nil })
}

// entry is one element of the catalog's "vulnerabilities" (CISA's schema,
// known_exploited_vulnerabilities_schema.json).
type entry struct {
	CVEID                      string `json:"cveID"`
	VulnerabilityName          string `json:"vulnerabilityName"`
	DateAdded                  string `json:"dateAdded"`
	ShortDescription           string `json:"shortDescription"`
	RequiredAction             string `json:"requiredAction"`
	DueDate                    string `json:"dueDate"`
	KnownRansomwareCampaignUse string `json:"knownRansomwareCampaignUse"`
}

// maxEntries bounds the catalog (1,404 entries in 2025): past it the
// document is not CISA's.
const maxEntries = 1_000_000

// ParseEnrichments implements feed.Enricher. It streams the document token
// by token, decoding one entry at a time. The catalog's version is read
// from "catalogVersion", which CISA writes before the list; a CVE listed
// twice keeps its first entry.
func (*Feed) ParseEnrichments(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Enrichment) error) error {
	r, _, err := feed.Decompress(io.NewSectionReader(snap, 0, size), feed.MaxDecompressed)
	if err != nil {
		return fmt.Errorf("kev: %w", err)
	}
	defer r.Close()
	dec := json.NewDecoder(r)
	fail := func(what string, err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("kev: %s (near byte %d): %w", what, dec.InputOffset(), err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail("catalog", err)
	}
	var version string
	sawList := false
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("catalog", err)
		}
		key, _ := tok.(string)
		switch key {
		case "catalogVersion":
			if err := dec.Decode(&version); err != nil {
				return fail("field catalogVersion", err)
			}
		case "vulnerabilities":
			sawList = true
			if err := expectDelim(dec, '['); err != nil {
				return fail("field vulnerabilities", err)
			}
			for i := 0; dec.More(); i++ {
				if err := ctx.Err(); err != nil {
					return err
				}
				if i >= maxEntries {
					return fail("field vulnerabilities", fmt.Errorf("more than %d entries", maxEntries))
				}
				var e entry
				if err := dec.Decode(&e); err != nil {
					return fail(fmt.Sprintf("vulnerabilities[%d]", i), err)
				}
				if !vuln.IsCVE(e.CVEID) {
					return fail(fmt.Sprintf("vulnerabilities[%d]", i), fmt.Errorf("field cveID %q is not a CVE id", e.CVEID))
				}
				if e.DateAdded == "" {
					return fail(fmt.Sprintf("vulnerabilities[%d] (%s)", i, e.CVEID), errors.New("no field dateAdded"))
				}
				if seen[e.CVEID] {
					continue
				}
				seen[e.CVEID] = true
				if err := emit(&vuln.Enrichment{CVE: e.CVEID, KEV: &vuln.KEV{
					CVE:                        e.CVEID,
					VulnerabilityName:          e.VulnerabilityName,
					CatalogVersion:             version,
					DateAdded:                  e.DateAdded,
					ShortDescription:           e.ShortDescription,
					RequiredAction:             e.RequiredAction,
					DueDate:                    e.DueDate,
					KnownRansomwareCampaignUse: e.KnownRansomwareCampaignUse,
				}}); err != nil {
					return err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return fail("field vulnerabilities", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(fmt.Sprintf("field %s", key), err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fail("catalog", err)
	}
	if !sawList {
		return fmt.Errorf("kev: no field vulnerabilities: not CISA's KEV catalog")
	}
	return nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("got %v, want %q", tok, string(d))
	}
	return nil
}
