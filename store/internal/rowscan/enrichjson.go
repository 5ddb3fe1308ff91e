package rowscan

import (
	"encoding/json"
	"strconv"

	"github.com/openclair/clair/internal/jsonscan"
	"github.com/openclair/clair/vuln"
)

// decodeEnrichment decodes a stored enrichment record exactly as
// json.Unmarshal into a zero vuln.Enrichment does. A cold report reads a
// record per CVE it names (thousands), and reflection-driven decoding was
// most of the cost: records in the form feedwrite.EncodeEnrichment writes
// (compact, known keys once each, strings without escapes) are read by
// hand, and anything else (an escape, null, an unknown or differently
// cased key, whitespace) goes to json.Unmarshal from the start. e's CVSS
// data shares rec's memory: rec must be the caller's own (a row scanned
// into a []byte is, with database/sql and pgx alike).
func decodeEnrichment(rec []byte, e *vuln.Enrichment) error {
	d := enrichDecoder{b: rec}
	if d.enrichment(e) && d.i == len(rec) {
		return nil
	}
	*e = vuln.Enrichment{}
	return json.Unmarshal(rec, e)
}

// enrichDecoder reads the fast form; each method reports false as soon as
// the input leaves it, and the caller starts over with json.Unmarshal.
type enrichDecoder struct {
	b []byte
	i int
}

func (d *enrichDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads {"key":value,...}, calling field with each key; field reads
// the value and returns the key's number among the object's keys, or -1
// for a key it does not know or a value it could not read. A key twice is
// left to json.Unmarshal (which merges or overwrites).
func (d *enrichDecoder) object(field func(key []byte) int) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	var seen uint32
	for {
		k, ok := d.strBytes()
		if !ok || !d.byte(':') {
			return false
		}
		n := field(k)
		if n < 0 || seen&(1<<n) != 0 {
			return false
		}
		seen |= 1 << n
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// strBytes reads a string as jsonscan.PlainString does: its bytes are the
// input's, keys are compared, not kept.
func (d *enrichDecoder) strBytes() ([]byte, bool) {
	s, end, ok := jsonscan.PlainString(d.b, d.i)
	d.i = end
	return s, ok
}

func (d *enrichDecoder) str() (string, bool) {
	s, ok := d.strBytes()
	return string(s), ok
}

func (d *enrichDecoder) strInto(p *string) bool {
	s, ok := d.str()
	*p = s
	return ok
}

// key is field's answer: n when the value was read, -1 otherwise.
func key(n int, ok bool) int {
	if !ok {
		return -1
	}
	return n
}

// num reads a number of JSON's grammar, parsed as json.Unmarshal parses a
// float64.
func (d *enrichDecoder) num(p *float64) bool {
	start := d.i
	digits := func() bool {
		n := d.i
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
		return d.i > n
	}
	d.byte('-')
	switch {
	case d.byte('0'):
	case !digits():
		return false
	}
	if d.byte('.') && !digits() {
		return false
	}
	if d.byte('e') || d.byte('E') {
		if !d.byte('+') {
			d.byte('-')
		}
		if !digits() {
			return false
		}
	}
	f, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
	*p = f
	return err == nil
}

// raw reads an object or array as json.RawMessage keeps it: its bytes as
// they are, once they are JSON by json.Valid's rules (jsonscan.Skip). The
// message shares rec's memory: decodeEnrichment's callers hand it a
// record of their own.
func (d *enrichDecoder) raw(p *json.RawMessage) bool {
	if d.i >= len(d.b) || (d.b[d.i] != '{' && d.b[d.i] != '[') {
		return false
	}
	end, ok := jsonscan.Skip(d.b, d.i)
	if !ok {
		return false
	}
	*p = json.RawMessage(d.b[d.i:end:end])
	d.i = end
	return true
}

func (d *enrichDecoder) enrichment(e *vuln.Enrichment) bool {
	return d.object(func(k []byte) int {
		switch string(k) {
		case "feed":
			return key(0, d.strInto(&e.Feed))
		case "cve":
			return key(1, d.strInto(&e.CVE))
		case "cvss":
			return key(2, d.cvssList(&e.CVSS))
		case "epss":
			e.EPSS = &vuln.EPSS{}
			return key(3, d.epss(e.EPSS))
		case "kev":
			e.KEV = &vuln.KEV{}
			return key(4, d.kev(e.KEV))
		}
		return -1
	})
}

func (d *enrichDecoder) cvssList(p *[]vuln.CVSS) bool {
	if !d.byte('[') {
		return false
	}
	out := []vuln.CVSS{}
	if !d.byte(']') {
		for {
			var c vuln.CVSS
			if !d.cvss(&c) {
				return false
			}
			out = append(out, c)
			if d.byte(']') {
				break
			}
			if !d.byte(',') {
				return false
			}
		}
	}
	*p = out
	return true
}

func (d *enrichDecoder) cvss(c *vuln.CVSS) bool {
	return d.object(func(k []byte) int {
		switch string(k) {
		case "source":
			return key(0, d.strInto(&c.Source))
		case "version":
			return key(1, d.strInto(&c.Version))
		case "vector":
			return key(2, d.strInto(&c.Vector))
		case "score":
			return key(3, d.num(&c.Score))
		case "severity":
			return key(4, d.strInto(&c.Severity))
		case "data":
			return key(5, d.raw(&c.Data))
		}
		return -1
	})
}

func (d *enrichDecoder) epss(e *vuln.EPSS) bool {
	return d.object(func(k []byte) int {
		switch string(k) {
		case "modelVersion":
			return key(0, d.strInto(&e.ModelVersion))
		case "date":
			return key(1, d.strInto(&e.Date))
		case "cve":
			return key(2, d.strInto(&e.CVE))
		case "epss":
			return key(3, d.num(&e.EPSS))
		case "percentile":
			return key(4, d.num(&e.Percentile))
		}
		return -1
	})
}

func (d *enrichDecoder) kev(e *vuln.KEV) bool {
	return d.object(func(k []byte) int {
		var p *string
		var n int
		switch string(k) {
		case "cve":
			p, n = &e.CVE, 0
		case "vulnerability_name":
			p, n = &e.VulnerabilityName, 1
		case "catalog_version":
			p, n = &e.CatalogVersion, 2
		case "date_added":
			p, n = &e.DateAdded, 3
		case "short_description":
			p, n = &e.ShortDescription, 4
		case "required_action":
			p, n = &e.RequiredAction, 5
		case "due_date":
			p, n = &e.DueDate, 6
		case "known_ransomware_campaign_use":
			p, n = &e.KnownRansomwareCampaignUse, 7
		default:
			return -1
		}
		return key(n, d.strInto(p))
	})
}
