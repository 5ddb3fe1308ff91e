package report

import (
	"encoding/json"

	"github.com/openclair/clair/vuln"
)

// enrichments is what the table reads of a report's enrichments, by
// vulnerability id.
type enrichments struct {
	cvss map[string]float64
	epss map[string]float64
	kev  map[string]*vuln.KEV
}

// readEnrichments decodes the report's clair.cvss, clair.epss and clair.kev
// enrichments. They are []any: typed maps when the report was made in this
// process, generic JSON when it was read from a server, so they go through
// JSON once. Anything unreadable is left out: the table is for people, and
// the JSON output keeps the data as it came.
func readEnrichments(vr *vuln.VulnerabilityReport) enrichments {
	en := enrichments{cvss: map[string]float64{}, epss: map[string]float64{}, kev: map[string]*vuln.KEV{}}
	each := func(key string, into func(id string, v json.RawMessage)) {
		for _, obj := range vr.Enrichments[key] {
			b, err := json.Marshal(obj)
			if err != nil {
				continue
			}
			var m map[string][]json.RawMessage
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			for id, vals := range m {
				for _, v := range vals {
					into(id, v)
				}
			}
		}
	}
	each(vuln.CVSSEnrichment, func(id string, v json.RawMessage) {
		var c struct {
			BaseScore *float64 `json:"baseScore"`
		}
		if json.Unmarshal(v, &c) == nil && c.BaseScore != nil {
			if cur, ok := en.cvss[id]; !ok || *c.BaseScore > cur {
				en.cvss[id] = *c.BaseScore
			}
		}
	})
	each(vuln.EPSSEnrichment, func(id string, v json.RawMessage) {
		var e vuln.EPSS
		if json.Unmarshal(v, &e) == nil {
			if cur, ok := en.epss[id]; !ok || e.Percentile > cur {
				en.epss[id] = e.Percentile
			}
		}
	})
	each(vuln.KEVEnrichment, func(id string, v json.RawMessage) {
		var k vuln.KEV
		if json.Unmarshal(v, &k) == nil && en.kev[id] == nil {
			en.kev[id] = &k
		}
	})
	return en
}

func (en enrichments) fill(r *Row) {
	id := r.Vuln.ID
	r.CVSS, r.HasCVSS = en.cvss[id]
	r.EPSS, r.HasEPSS = en.epss[id]
	r.KEV = en.kev[id]
}
