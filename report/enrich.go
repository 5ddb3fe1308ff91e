package report

import (
	"encoding/json"

	"github.com/openclair/clair/vuln"
)

// enrichments is what the formats read of a report's enrichments, by
// vulnerability id.
type enrichments struct {
	cvss map[string]CVSS
	epss map[string]float64
	kev  map[string]*vuln.KEV
}

// readEnrichments decodes the report's clair.cvss (cvssScores), clair.epss
// and clair.kev enrichments. They are []any: typed maps when the report
// was made in this process, read as they are, and generic JSON when it was
// read from a server, which goes through JSON once. Anything unreadable is
// left out: the formats are for people, and the JSON output keeps the data
// as it came.
func readEnrichments(vr *vuln.VulnerabilityReport) enrichments {
	en := enrichments{cvss: cvssScores(vr), epss: map[string]float64{}, kev: map[string]*vuln.KEV{}}
	epss := func(id string, e *vuln.EPSS) {
		if cur, ok := en.epss[id]; !ok || e.Percentile > cur {
			en.epss[id] = e.Percentile
		}
	}
	kev := func(id string, k *vuln.KEV) {
		if en.kev[id] == nil {
			en.kev[id] = k
		}
	}
	for _, obj := range vr.Enrichments[vuln.EPSSEnrichment] {
		if m, ok := obj.(map[string][]vuln.EPSS); ok {
			for id, es := range m {
				for i := range es {
					epss(id, &es[i])
				}
			}
			continue
		}
		eachJSON(obj, func(id string, v json.RawMessage) {
			var e vuln.EPSS
			if json.Unmarshal(v, &e) == nil {
				epss(id, &e)
			}
		})
	}
	for _, obj := range vr.Enrichments[vuln.KEVEnrichment] {
		if m, ok := obj.(map[string][]vuln.KEV); ok {
			for id, ks := range m {
				for i := range ks {
					k := ks[i]
					kev(id, &k)
				}
			}
			continue
		}
		eachJSON(obj, func(id string, v json.RawMessage) {
			var k vuln.KEV
			if json.Unmarshal(v, &k) == nil {
				kev(id, &k)
			}
		})
	}
	return en
}

// eachJSON calls into with each (id, value) pair of an enrichment map of
// any form, through JSON.
func eachJSON(obj any, into func(id string, v json.RawMessage)) {
	b, ok := obj.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(obj); err != nil {
			return
		}
	}
	var m map[string][]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return
	}
	for id, vals := range m {
		for _, v := range vals {
			into(id, v)
		}
	}
}

func (en enrichments) fill(r *Row) {
	id := r.Vuln.ID
	var c CVSS
	c, r.HasCVSS = en.cvss[id]
	r.CVSS = c.BaseScore
	r.EPSS, r.HasEPSS = en.epss[id]
	r.KEV = en.kev[id]
}
