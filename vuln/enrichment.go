package vuln

import (
	"encoding/json"
	"strings"
)

// Enrichment is what one enrichment feed (nvd, cvelist, epss, kev) says of
// one CVE. Enrichment feeds add to advisories instead of producing them: a
// report shows their data beside each vulnerability, under keys of its
// Enrichments field, and takes a severity from CVSS where the distribution
// gave none.
type Enrichment struct {
	// Feed is the feed that produced the record.
	Feed string `json:"feed,omitempty"`
	// CVE is the CVE id the record is about, upper case.
	CVE string `json:"cve"`
	// CVSS holds the scores the feed carries, best first (see CVSSSource).
	CVSS []CVSS `json:"cvss,omitempty"`
	EPSS *EPSS  `json:"epss,omitempty"`
	KEV  *KEV   `json:"kev,omitempty"`
}

// CVSS sources, in the order a report prefers them (CVSSRank).
const (
	CVSSSourceNVD     = "nvd"      // NVD's own analysis ("Primary" in NVD's data)
	CVSSSourceCISAADP = "cisa-adp" // CISA's Vulnrichment, an ADP container of the CVE record
	CVSSSourceCNA     = "cna"      // the CVE Numbering Authority that assigned the CVE
)

// CVSS is one CVSS score of a CVE.
type CVSS struct {
	// Source is one of the CVSSSource constants.
	Source string `json:"source"`
	// Version is "3.0", "3.1" or "4.0".
	Version  string  `json:"version"`
	Vector   string  `json:"vector"`
	Score    float64 `json:"score"`
	Severity string  `json:"severity"` // baseSeverity as written: CRITICAL, HIGH, ...
	// Data is the CVSS object as the feed wrote it (NVD's cvssData, the CVE
	// record's cvssV3_1, ...): Clair's clair.cvss enrichment is this object.
	Data json.RawMessage `json:"data,omitempty"`
}

// CVSSRank orders CVSS sources for the report: NVD's own analysis first,
// CISA-ADP next, the CNA's last; lower is preferred. NVD and CISA score as
// independent analysts across every vendor with one method, which is what
// makes scores of different packages comparable in one table; a CNA scores
// its own product (often the vendor, sometimes with an interest in the
// outcome), so its score is used only where no independent one exists. This
// is also how NVD itself presents them ("Primary" before "Secondary").
// Within a source, v3.1 is preferred to v3.0, and v3.x to v4.0: Clair's
// clair.cvss enrichment carries CVSS v3 objects, and tools reading it expect
// that shape.
func CVSSRank(c CVSS) int {
	r := 0
	switch c.Source {
	case CVSSSourceNVD:
	case CVSSSourceCISAADP:
		r = 10
	case CVSSSourceCNA:
		r = 20
	default:
		r = 30
	}
	switch c.Version {
	case "3.1":
	case "3.0":
		r++
	case "4.0":
		r += 2
	default:
		r += 3
	}
	return r
}

// SeverityOfCVSS maps a CVSS base severity to the normalized scale. CVSS
// "NONE" (score 0.0) is Negligible; anything unreadable is Unknown.
func SeverityOfCVSS(baseSeverity string) Severity {
	switch strings.ToUpper(baseSeverity) {
	case "CRITICAL":
		return Critical
	case "HIGH":
		return High
	case "MEDIUM":
		return Medium
	case "LOW":
		return Low
	case "NONE":
		return Negligible
	}
	return Unknown
}

// EPSS is FIRST's Exploit Prediction Scoring System score of a CVE on one
// day, in the shape of Clair's clair.epss enrichment.
type EPSS struct {
	ModelVersion string  `json:"modelVersion"`
	Date         string  `json:"date"`
	CVE          string  `json:"cve"`
	EPSS         float64 `json:"epss"`
	Percentile   float64 `json:"percentile"`
}

// KEV is a CVE's entry in CISA's Known Exploited Vulnerabilities catalog,
// in the shape of Clair's clair.kev enrichment.
type KEV struct {
	CVE                        string `json:"cve"`
	VulnerabilityName          string `json:"vulnerability_name"`
	CatalogVersion             string `json:"catalog_version"`
	DateAdded                  string `json:"date_added"`
	ShortDescription           string `json:"short_description"`
	RequiredAction             string `json:"required_action"`
	DueDate                    string `json:"due_date"`
	KnownRansomwareCampaignUse string `json:"known_ransomware_campaign_use"`
}

// Enrichment keys of VulnerabilityReport.Enrichments. Each maps to a list
// holding one object keyed by the report's vulnerability ids; the values are
// arrays of the enricher's objects. CVSSEnrichment is byte for byte Clair's
// (Quay shows it); EPSS and KEV are claircore's epss and kev enrichers' keys.
const (
	CVSSEnrichment = `message/vnd.clair.map.vulnerability; enricher=clair.cvss schema=https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema`
	EPSSEnrichment = `message/vnd.clair.map.vulnerability; enricher=clair.epss schema=none`
	KEVEnrichment  = `message/vnd.clair.map.vulnerability; enricher=clair.kev schema=none`
)

// IsCVE reports whether id is a CVE id (CVE-YYYY-NNNN...).
func IsCVE(id string) bool {
	if len(id) < len("CVE-2000-0000") || !strings.EqualFold(id[:4], "CVE-") || id[8] != '-' {
		return false
	}
	for i := 4; i < len(id); i++ {
		if i == 8 {
			continue
		}
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
