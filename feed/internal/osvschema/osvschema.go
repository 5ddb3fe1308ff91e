// Package osvschema is the part of the OSV record format
// (https://ossf.github.io/osv-schema/) the feeds read: osv.dev's exports
// (feed/osv) and Canonical's records (feed/ubuntu) share it.
package osvschema

import "encoding/json"

// Record is one OSV record.
type Record struct {
	ID      string   `json:"id"`
	Summary string   `json:"summary"`
	Details string   `json:"details"`
	Aliases []string `json:"aliases"`
	Related []string `json:"related"`
	// Upstream names the records a record derives from (Canonical's CVE,
	// the CVEs of a distribution erratum).
	Upstream         []string   `json:"upstream"`
	Published        string     `json:"published"`
	Withdrawn        string     `json:"withdrawn"`
	Severity         []Severity `json:"severity"`
	Affected         []Affected `json:"affected"`
	DatabaseSpecific struct {
		Severity json.RawMessage `json:"severity"`
	} `json:"database_specific"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

// Severity is one severity score (CVSS vector, Ubuntu priority, ...).
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package with its ranges and versions.
type Affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Ranges []struct {
		Type   string  `json:"type"`
		Events []Event `json:"events"`
	} `json:"ranges"`
	Versions []string `json:"versions"`
}

// Event is one event of a range.
type Event struct {
	Introduced   string `json:"introduced"`
	Fixed        string `json:"fixed"`
	LastAffected string `json:"last_affected"`
	Limit        string `json:"limit"`
}
