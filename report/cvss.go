package report

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/openclair/clair/internal/jsonscan"
)

// The CVSS enrichment of a large report is megabytes of NVD objects (one
// per vulnerability, a dozen fields each, four of them read here), and
// encoding/json's reflection made reading it most of a format's time. The
// scanner below reads that one shape — {"id": [{...}, ...], ...} — in one
// pass over bytes json.Valid has checked; anything else (a string with an
// escape or invalid UTF-8, a value of another type) makes it give up, and decodeCVSS falls
// back to encoding/json, so both always agree (FuzzDecodeCVSS).

// decodeCVSS reads one CVSS enrichment map into out, keeping the highest
// in-range base score per vulnerability id.
func decodeCVSS(b []byte, out map[string]CVSS) {
	if !json.Valid(b) {
		return
	}
	m, ok := scanCVSSMap(b)
	if !ok {
		m = nil
		if err := json.Unmarshal(b, &m); err != nil {
			return
		}
	}
	for id, scores := range m {
		for _, s := range scores {
			keepCVSS(out, id, s)
		}
	}
}

// keepCVSS keeps s as id's score if it is in range and the highest yet.
func keepCVSS(out map[string]CVSS, id string, s CVSS) {
	if s.BaseScore <= 0 || s.BaseScore > 10 {
		return
	}
	if old, ok := out[id]; !ok || s.BaseScore > old.BaseScore {
		out[id] = s
	}
}

var cvssFields = []string{"version", "vectorString", "baseScore", "baseSeverity"}

type cvssScanner struct {
	b []byte
	i int
}

func (s *cvssScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c,
// consuming it if so.
func (s *cvssScanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string as jsonscan.PlainString does, as the bytes of the
// input: keys are compared and most values dropped, so only what is kept
// is copied.
func (s *cvssScanner) str() ([]byte, bool) {
	s.ws()
	v, end, ok := jsonscan.PlainString(s.b, s.i)
	s.i = end
	return v, ok
}

// skip passes over one value the CVSS struct does not read: a number, a
// literal, an escape-free string; nested values give up.
func (s *cvssScanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{' || c == '[':
		return false
	default:
		start := s.i
		for s.i < len(s.b) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' && s.b[s.i] != ' ' && s.b[s.i] != '\n' && s.b[s.i] != '\t' && s.b[s.i] != '\r' {
			s.i++
		}
		return jsonLiteral(s.b[start:s.i])
	}
}

// jsonLiteral reports whether b is a JSON number, true, false or null, so
// that the scanner accepts only JSON where nothing checked it before.
func jsonLiteral(b []byte) bool {
	switch string(b) {
	case "true", "false", "null":
		return true
	}
	i := 0
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(b)
}

// decodeCVSSObject reads one CVSS object (an element of the map's lists,
// as a report made in this process holds them) as encoding/json would;
// ok is false when it is not one.
func decodeCVSSObject(b []byte) (CVSS, bool) {
	s := &cvssScanner{b: b}
	if c, ok := s.object(); ok {
		if s.ws(); s.i == len(b) {
			return c, true
		}
	}
	var c CVSS
	return c, json.Unmarshal(b, &c) == nil
}

func (s *cvssScanner) object() (CVSS, bool) {
	var c CVSS
	if !s.next('{') {
		return c, false
	}
	if s.next('}') {
		return c, true
	}
	for {
		kb, ok := s.str()
		if !ok || !s.next(':') {
			return c, false
		}
		s.ws()
		var field *string
		switch string(kb) { // no allocation: a comparison
		case "version":
			field = &c.Version
		case "vectorString":
			field = &c.VectorString
		case "baseSeverity":
			field = &c.BaseSeverity
		}
		switch {
		case field != nil:
			if s.i < len(s.b) && s.b[s.i] == 'n' { // null
				if !s.skip() {
					return c, false
				}
				break
			}
			vb, ok := s.str()
			if !ok {
				return c, false
			}
			*field = string(vb)
		case string(kb) == "baseScore":
			start := s.i
			if !s.skip() {
				return c, false
			}
			raw := string(s.b[start:s.i])
			if raw != "null" {
				f, err := strconv.ParseFloat(raw, 64)
				if err != nil {
					return c, false
				}
				c.BaseScore = f
			}
		default:
			for _, f := range cvssFields {
				if bytes.EqualFold(kb, []byte(f)) {
					// encoding/json would match it: leave it to that.
					return c, false
				}
			}
			if !s.skip() {
				return c, false
			}
		}
		if s.next(',') {
			continue
		}
		return c, s.next('}')
	}
}

// scanCVSSMap reads {"id": [cvss, ...], ...}; ok is false for anything it
// does not handle.
func scanCVSSMap(b []byte) (map[string][]CVSS, bool) {
	s := &cvssScanner{b: b}
	out := map[string][]CVSS{}
	if !s.next('{') {
		return nil, false
	}
	if s.next('}') {
		s.ws()
		return out, s.i == len(s.b)
	}
	for {
		idb, ok := s.str()
		id := string(idb)
		if !ok || !s.next(':') {
			return nil, false
		}
		// encoding/json keeps the last of duplicate keys.
		list := []CVSS{}
		if !s.next('[') {
			return nil, false
		}
		if !s.next(']') {
			for {
				c, ok := s.object()
				if !ok {
					return nil, false
				}
				list = append(list, c)
				if s.next(',') {
					continue
				}
				if !s.next(']') {
					return nil, false
				}
				break
			}
		}
		out[id] = list
		if s.next(',') {
			continue
		}
		if !s.next('}') {
			return nil, false
		}
		s.ws()
		return out, s.i == len(s.b)
	}
}
