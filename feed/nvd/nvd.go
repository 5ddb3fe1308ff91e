// Package nvd holds the enrichment feeds of CVSS scores: NVD's CVE JSON 2.0
// data feeds (feed "nvd") and the CVE List V5 records with their CNA and
// CISA-ADP scores (feed "cvelist"), which cover the CVEs NVD's backlog
// leaves unscored. Which score a report shows is vuln.CVSSRank's choice:
// NVD's own, then CISA-ADP's, then the CNA's.
package nvd

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/internal/redact"
	"github.com/openclair/clair/vuln"
)

// Name is the NVD feed's name.
const Name = "nvd"

// DefaultURL is NVD's folder of data feeds: nvdcve-2.0-YYYY.json.gz for
// each year since 2002, and nvdcve-2.0-modified.json.gz (the last eight
// days' changes).
const DefaultURL = "https://nvd.nist.gov/feeds/json/cve/2.0/"

// FirstYear is the first yearly feed (older CVEs are filed under 2002).
const FirstYear = 2002

const modifiedFile = "nvdcve-2.0-modified.json.gz"

func init() {
	feed.Register(New())
	feed.Register(NewCVEList())
}

// Feed is NVD's CVE JSON 2.0 data feeds.
type Feed struct {
	// Now gives the current year's feed; nil is time.Now.
	Now func() time.Time
}

var _ feed.Incremental = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{} }

// Name implements feed.Feed.
func (*Feed) Name() string { return Name }

// DefaultURL implements feed.Feed.
func (*Feed) DefaultURL() string { return DefaultURL }

// fingerprint is the modified feed's: NVD regenerates every file together,
// and any change to a CVE of any year is in the modified feed for eight
// days, so an unchanged modified feed means unchanged feeds, and checking
// costs one conditional request. Full is when every year was last
// downloaded: within IncrementWindow of it, an update downloads the
// modified feed alone and carries the stored records of the CVEs it does
// not list over.
type fingerprint struct {
	Modified string `json:"modified"`
	Full     string `json:"full,omitempty"` // RFC 3339
}

// IncrementWindow is how long after a full download updates are increments:
// NVD's modified feed lists the CVEs changed in the last eight days, and a
// day is kept in hand.
const IncrementWindow = 7 * 24 * time.Hour

// incrementMarker is the snapshot entry that makes it an increment.
const incrementMarker = "INCREMENT"

// Fetch implements feed.Feed. The snapshot is a tar of the files as named
// upstream, the modified feed first. rawURL is the folder holding them; a
// file:// folder may hold only some years (a partial mirror), a web folder
// must hold every year up to last year.
func (f *Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	var pfp fingerprint
	if prev != "" {
		_ = json.Unmarshal([]byte(prev), &pfp) // an unreadable one is "none": one full download
	}
	dir := strings.TrimSuffix(rawURL, "/") + "/"
	local, isLocal := feed.FilePath(rawURL)
	tmp, err := os.CreateTemp("", "clair-nvd-*")
	if err != nil {
		return "", fmt.Errorf("nvd: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	get := func(name, prev string) (string, error) {
		if err := tmp.Truncate(0); err != nil {
			return "", err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		src := dir + url.PathEscape(name)
		if isLocal {
			src = filepath.Join(local, name)
		}
		return feed.Get(ctx, c, src, prev, tmp)
	}
	mfp, err := get(modifiedFile, pfp.Modified)
	if errors.Is(err, feed.ErrUnchanged) {
		return "", feed.ErrUnchanged
	}
	if err != nil {
		return "", fmt.Errorf("nvd: %w", err)
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	tw := tar.NewWriter(dst)
	if last, err := time.Parse(time.RFC3339, pfp.Full); err == nil && pfp.Full != "" {
		if age := now().Sub(last); age >= 0 && age < IncrementWindow {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: incrementMarker, Mode: 0o644,
				ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
				return "", fmt.Errorf("nvd: writing snapshot: %w", err)
			}
			if err := addFile(tw, modifiedFile, tmp); err != nil {
				return "", err
			}
			if err := tw.Close(); err != nil {
				return "", fmt.Errorf("nvd: writing snapshot: %w", err)
			}
			b, _ := json.Marshal(fingerprint{Modified: mfp, Full: pfp.Full})
			return string(b), nil
		}
	}
	if err := addFile(tw, modifiedFile, tmp); err != nil {
		return "", err
	}
	cur := now().UTC().Year()
	years := 0
	for y := cur; y >= FirstYear; y-- {
		name := "nvdcve-2.0-" + strconv.Itoa(y) + ".json.gz"
		_, err := get(name, "")
		if feed.IsNotExist(err) && (isLocal || y == cur) {
			// A partial local mirror; or early January, before NVD
			// publishes the new year's file.
			continue
		}
		if err != nil {
			return "", fmt.Errorf("nvd: %w", err)
		}
		if err := addFile(tw, name, tmp); err != nil {
			return "", err
		}
		years++
	}
	if years == 0 {
		return "", fmt.Errorf("nvd: %s: no yearly feed files (nvdcve-2.0-YYYY.json.gz)", redact.URL(rawURL))
	}
	if err := tw.Close(); err != nil {
		return "", fmt.Errorf("nvd: writing snapshot: %w", err)
	}
	b, _ := json.Marshal(fingerprint{Modified: mfp, Full: now().UTC().Format(time.RFC3339)})
	return string(b), nil
}

func addFile(tw *tar.Writer, name string, f *os.File) error {
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("nvd: %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("nvd: %s: %w", name, err)
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size,
		ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("nvd: writing snapshot: %w", err)
	}
	if _, err := io.CopyN(tw, f, size); err != nil {
		return fmt.Errorf("nvd: writing snapshot: %s: %w", name, err)
	}
	return nil
}

// Parse implements feed.Feed: NVD holds no advisories here; the snapshot
// is read through so that a broken one is an error whichever way it is
// read.
func (f *Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, _ func(*vuln.Advisory) error) error {
	return f.ParseEnrichments(ctx, snap, size, func(*vuln.Enrichment) error { return nil })
}

// ParseEnrichments implements feed.Enricher. Files are read in the
// snapshot's order, the modified feed first: a CVE in several files keeps
// the first (the modified feed's copy is the newest). Of an increment it
// emits the modified feed's records only.
func (*Feed) ParseEnrichments(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Enrichment) error) error {
	_, err := parseSnapshot(ctx, snap, size, emit)
	return err
}

// ParseIncremental implements feed.Incremental: of an increment (the
// modified feed alone), it emits the modified feed's records, then the
// stored records of every CVE the modified feed does not list.
func (*Feed) ParseIncremental(ctx context.Context, snap io.ReaderAt, size int64, prev func(func(*vuln.Enrichment) error) error, emit func(*vuln.Enrichment) error) error {
	seen, err := parseSnapshot(ctx, snap, size, emit)
	if err != nil || seen == nil {
		return err
	}
	if prev == nil {
		return errors.New("nvd: the snapshot is an increment, and the stored records cannot be listed")
	}
	return prev(func(e *vuln.Enrichment) error {
		if _, ok := seen[e.CVE]; ok {
			return nil
		}
		cp := *e
		cp.Feed = ""
		return emit(&cp)
	})
}

// parseSnapshot emits the records of the snapshot's files; for an
// increment it returns the CVEs the files list (scored or not, rejected
// too: their stored records are out of date).
func parseSnapshot(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Enrichment) error) (increment map[string]struct{}, err error) {
	tr := tar.NewReader(io.NewSectionReader(snap, 0, size))
	seen := make(map[string]struct{}, 1<<12)
	files, isIncrement := 0, false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("nvd: snapshot: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if hdr.Name == incrementMarker {
			isIncrement = true
			continue
		}
		if err := ParseFile(ctx, hdr.Name, tr, seen, emit); err != nil {
			return nil, err
		}
		files++
	}
	if files == 0 {
		return nil, errors.New("nvd: snapshot holds no feed files")
	}
	if isIncrement {
		return seen, nil
	}
	return nil, nil
}

// item is one element of "vulnerabilities": only what enrichment needs is
// decoded; the rest (configurations, references, descriptions) is skipped.
type item struct {
	CVE struct {
		ID         string `json:"id"`
		VulnStatus string `json:"vulnStatus"`
		Metrics    struct {
			V40 []metric `json:"cvssMetricV40"`
			V31 []metric `json:"cvssMetricV31"`
			V30 []metric `json:"cvssMetricV30"`
		} `json:"metrics"`
	} `json:"cve"`
}

type metric struct {
	Source string          `json:"source"`
	Data   json.RawMessage `json:"cvssData"`
}

// cisaADP is the source identifier of CISA's ADP (Vulnrichment) in NVD's
// data and in CVE records.
const cisaADP = "134c704f-9b21-4f2e-91b3-4a467353bcc0"

// nvdSource is NVD's own source identifier.
const nvdSource = "nvd@nist.gov"

// ParseFile reads one NVD JSON 2.0 document (a data feed file, gzipped or
// not, or an API 2.0 response: the same shape) token by token, one
// vulnerability at a time, and emits the CVSS scores of each CVE not in
// seen (then added to it). Rejected CVEs are skipped. name is for errors.
func ParseFile(ctx context.Context, name string, r io.Reader, seen map[string]struct{}, emit func(*vuln.Enrichment) error) error {
	rc, _, err := feed.Decompress(r, feed.MaxDecompressed)
	if err != nil {
		return fmt.Errorf("nvd: %s: %w", name, err)
	}
	defer rc.Close()
	r = rc
	dec := json.NewDecoder(r)
	fail := func(what string, err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("nvd: %s: %s (near byte %d): %w", name, what, dec.InputOffset(), err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail("top level", err)
	}
	sawList := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("top level", err)
		}
		key, _ := tok.(string)
		if key != "vulnerabilities" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail("field "+key, err)
			}
			continue
		}
		sawList = true
		if err := expectDelim(dec, '['); err != nil {
			return fail("field vulnerabilities", err)
		}
		for i := 0; dec.More(); i++ {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var it item
			if err := dec.Decode(&it); err != nil {
				return fail(fmt.Sprintf("vulnerabilities[%d]", i), err)
			}
			id := it.CVE.ID
			if !vuln.IsCVE(id) {
				return fail(fmt.Sprintf("vulnerabilities[%d]", i), fmt.Errorf("field cve.id %q is not a CVE id", id))
			}
			e := &vuln.Enrichment{CVE: id}
			for _, ms := range [][]metric{it.CVE.Metrics.V31, it.CVE.Metrics.V30, it.CVE.Metrics.V40} {
				for _, m := range ms {
					// By who scored, not by NVD's "Primary": NVD marks a
					// CNA's score Primary where it has none of its own
					// (Oracle's, for one).
					src := vuln.CVSSSourceCNA
					switch m.Source {
					case nvdSource:
						src = vuln.CVSSSourceNVD
					case cisaADP:
						src = vuln.CVSSSourceCISAADP
					}
					c, err := ReadCVSS(src, m.Data)
					if err != nil {
						return fail(fmt.Sprintf("vulnerabilities[%d] (%s) metrics", i, id), err)
					}
					e.CVSS = append(e.CVSS, c)
				}
			}
			// Checked whole before the duplicate test: a broken file
			// is an error even where an earlier file has its CVEs.
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			if strings.EqualFold(it.CVE.VulnStatus, "Rejected") {
				continue // and an older copy in a later file stays out
			}
			e.CVSS = Best(e.CVSS)
			if len(e.CVSS) == 0 {
				continue // nothing to add: the CVE is not scored yet
			}
			if err := emit(e); err != nil {
				return err
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			return fail("field vulnerabilities", err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fail("top level", err)
	}
	if !sawList {
		return fmt.Errorf("nvd: %s: no field vulnerabilities: not an NVD CVE JSON 2.0 document", name)
	}
	return nil
}

// cvssData is the part of a CVSS object (NVD's cvssData, a CVE record's
// cvssV3_1) enrichment reads.
type cvssData struct {
	Version      string   `json:"version"`
	Vector       string   `json:"vectorString"`
	BaseScore    *float64 `json:"baseScore"`
	BaseSeverity string   `json:"baseSeverity"`
}

// maxCVSSObject bounds one CVSS object kept in a record (real ones are
// about 500 bytes).
const maxCVSSObject = 8 << 10

// ReadCVSS checks one CVSS object and returns it as a score of source src.
func ReadCVSS(src string, data json.RawMessage) (vuln.CVSS, error) {
	var d cvssData
	if err := json.Unmarshal(data, &d); err != nil {
		return vuln.CVSS{}, fmt.Errorf("cvssData: %w", err)
	}
	switch d.Version {
	case "3.0", "3.1", "4.0":
	default:
		return vuln.CVSS{}, fmt.Errorf("cvssData: field version %q, want 3.0, 3.1 or 4.0", d.Version)
	}
	if d.BaseScore == nil || *d.BaseScore < 0 || *d.BaseScore > 10 {
		return vuln.CVSS{}, fmt.Errorf("cvssData %s: field baseScore missing or out of 0..10", d.Vector)
	}
	if vuln.SeverityOfCVSS(d.BaseSeverity) == vuln.Unknown {
		return vuln.CVSS{}, fmt.Errorf("cvssData %s: field baseSeverity %q", d.Vector, d.BaseSeverity)
	}
	if !strings.HasPrefix(d.Vector, "CVSS:"+d.Version+"/") {
		return vuln.CVSS{}, fmt.Errorf("cvssData: field vectorString %q is not a CVSS %s vector", d.Vector, d.Version)
	}
	if len(data) > maxCVSSObject {
		return vuln.CVSS{}, fmt.Errorf("cvssData %s: %d bytes, over %d", d.Vector, len(data), maxCVSSObject)
	}
	return vuln.CVSS{Source: src, Version: d.Version, Vector: d.Vector, Score: *d.BaseScore,
		Severity: strings.ToUpper(d.BaseSeverity), Data: slices.Clone(data)}, nil
}

// Best sorts scores by vuln.CVSSRank and keeps the first of each source and
// version, so that a record stays small and its first score is the one a
// report shows.
func Best(cs []vuln.CVSS) []vuln.CVSS {
	slices.SortStableFunc(cs, func(a, b vuln.CVSS) int { return vuln.CVSSRank(a) - vuln.CVSSRank(b) })
	return slices.CompactFunc(cs, func(a, b vuln.CVSS) bool { return a.Source == b.Source && a.Version == b.Version })
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
