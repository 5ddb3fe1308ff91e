package nvd

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// CVEListName is the CVE List V5 feed's name.
const CVEListName = "cvelist"

// CVEListDefaultURL is the CVE Program's repository of CVE records (CVE JSON
// 5), as one gzipped tar of its main branch.
const CVEListDefaultURL = "https://github.com/CVEProject/cvelistV5/archive/refs/heads/main.tar.gz"

// maxRecord bounds one CVE record (the largest are a few hundred kilobytes).
const maxRecord = 16 << 20

// CVEList is the CVE List V5 feed: the CVSS scores of the CNA that assigned
// each CVE and of CISA's ADP (Vulnrichment), which score many CVEs NVD has
// not analysed yet.
type CVEList struct{ feed.Document }

var _ feed.Enricher = (*CVEList)(nil)

// Bulky implements feed.Bulky: the archive is about half a gigabyte and
// the repository takes commits every few minutes.
func (*CVEList) Bulky() {}

// NewCVEList returns the feed.
func NewCVEList() *CVEList {
	return &CVEList{feed.Document{FeedName: CVEListName, URL: CVEListDefaultURL}}
}

// Parse implements feed.Feed: no advisories; the archive is read through.
func (f *CVEList) Parse(ctx context.Context, snap io.ReaderAt, size int64, _ func(*vuln.Advisory) error) error {
	return f.ParseEnrichments(ctx, snap, size, func(*vuln.Enrichment) error { return nil })
}

// record is the part of a CVE JSON 5 record enrichment reads.
type record struct {
	DataType    string `json:"dataType"`
	CVEMetadata struct {
		ID    string `json:"cveId"`
		State string `json:"state"`
	} `json:"cveMetadata"`
	Containers struct {
		CNA struct {
			Metrics []cveMetric `json:"metrics"`
		} `json:"cna"`
		ADP []struct {
			Provider struct {
				OrgID     string `json:"orgId"`
				ShortName string `json:"shortName"`
			} `json:"providerMetadata"`
			Metrics []cveMetric `json:"metrics"`
		} `json:"adp"`
	} `json:"containers"`
}

type cveMetric struct {
	V31 json.RawMessage `json:"cvssV3_1"`
	V30 json.RawMessage `json:"cvssV3_0"`
	V40 json.RawMessage `json:"cvssV4_0"`
}

// ParseEnrichments implements feed.Enricher: it reads the archive's
// cves/YYYY/NNxxx/CVE-*.json records one at a time and emits the CNA's and
// CISA-ADP's scores of each published CVE (other ADPs carry none).
func (*CVEList) ParseEnrichments(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Enrichment) error) error {
	r, _, err := feed.Decompress(io.NewSectionReader(snap, 0, size), feed.MaxDecompressed)
	if err != nil {
		return fmt.Errorf("cvelist: %w", err)
	}
	defer r.Close()
	tr := tar.NewReader(r)
	records := 0
	seen := map[string]struct{}{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("cvelist: archive: %w", err)
		}
		base := path.Base(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !strings.HasPrefix(base, "CVE-") || !strings.HasSuffix(base, ".json") {
			continue // delta.json, deltaLog.json, README, ...
		}
		if records%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		records++
		e, err := readRecord(hdr.Name, tr)
		if err != nil {
			return err
		}
		if e == nil {
			continue
		}
		if _, dup := seen[e.CVE]; dup {
			return fmt.Errorf("cvelist: %s: %s appears twice in the archive", hdr.Name, e.CVE)
		}
		seen[e.CVE] = struct{}{}
		if err := emit(e); err != nil {
			return err
		}
	}
	if records == 0 {
		return errors.New("cvelist: archive holds no CVE records (cves/YYYY/*/CVE-*.json)")
	}
	return nil
}

// readRecord reads one CVE record; it returns nil for a record with no
// score or not published.
func readRecord(name string, r io.Reader) (*vuln.Enrichment, error) {
	b, err := limit.ReadAll(r, maxRecord)
	if err != nil {
		return nil, fmt.Errorf("cvelist: %s: %w", name, err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("cvelist: %s: %w", name, err)
	}
	if rec.DataType != "CVE_RECORD" {
		return nil, fmt.Errorf("cvelist: %s: field dataType %q, want CVE_RECORD", name, rec.DataType)
	}
	id := rec.CVEMetadata.ID
	if !vuln.IsCVE(id) {
		return nil, fmt.Errorf("cvelist: %s: field cveMetadata.cveId %q is not a CVE id", name, id)
	}
	if rec.CVEMetadata.State != "PUBLISHED" {
		return nil, nil
	}
	e := &vuln.Enrichment{CVE: strings.ToUpper(id)}
	add := func(src string, ms []cveMetric) {
		for _, m := range ms {
			for _, d := range []json.RawMessage{m.V31, m.V30, m.V40} {
				if len(d) == 0 {
					continue
				}
				// CNAs write their records by hand and some scores are
				// malformed (no baseSeverity, a vector of another
				// version): such a score is left out rather than the
				// whole list, which would then never update.
				if c, err := ReadCVSS(src, d); err == nil {
					e.CVSS = append(e.CVSS, c)
				}
			}
		}
	}
	add(vuln.CVSSSourceCNA, rec.Containers.CNA.Metrics)
	for _, a := range rec.Containers.ADP {
		if a.Provider.OrgID == cisaADP || a.Provider.ShortName == "CISA-ADP" {
			add(vuln.CVSSSourceCISAADP, a.Metrics)
		}
	}
	e.CVSS = Best(e.CVSS)
	if len(e.CVSS) == 0 {
		return nil, nil
	}
	return e, nil
}
