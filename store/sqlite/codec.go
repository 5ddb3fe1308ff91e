package sqlite

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/vuln"
)

// Rows travel between SQLite and Go in as few values as possible: through
// database/sql and the driver every column of every row costs a few hundred
// nanoseconds, more than SQLite's own work. So the advisory table keeps one
// text record per row, and the read queries concatenate whole results with
// group_concat into one value, which Go splits. Fields and records are
// separated by NUL, which no stored string may contain (feedwrite.CheckNUL): PostgreSQL
// refuses it in text too, so the contract is the same for every store.

const sep = "\x00"

// Fields of an advisory record, in order, after the package (which the query
// prepends) and before the next record.
const advisoryFields = 8 // package, name, state, version_format, fixed_in, severity, normalized_severity, ranges

// Fields of a detail record, and of a brief one (package_detail.brief).
const (
	detailFields = 5 // name, description, links, issued, aliases
	briefFields  = 3 // name, issued, aliases
)

// The ranges field holds Ranges and Versions in as few bytes as the shape
// allows:
//
//   - "": no ranges and no versions (unfixed, not affected, ...);
//   - "=": exactly one range {Fixed: FixedIn} and no versions, the shape of
//     nearly every distribution advisory, decoded without JSON;
//   - otherwise JSON {"r":[{"i":..,"f":..,"l":..}],"v":[..]} with the empty
//     members left out.
//
// Empty slices read back as nil.
const rangesFixedIn = "="

// rangesJSON is the JSON form of the ranges field, with short keys.
type rangesJSON struct {
	R []rangeJSON `json:"r,omitempty"`
	V []string    `json:"v,omitempty"`
	// The qualifiers (vuln.Advisory.Arches, Module, Repositories) ride in
	// the same field: they are rare outside RPM feeds.
	A []string `json:"a,omitempty"`
	M string   `json:"m,omitempty"`
	C []string `json:"c,omitempty"`
}

// hasQualifiers is true when a narrows the packages it applies to.
func hasQualifiers(a *vuln.Advisory) bool {
	return len(a.Arches) > 0 || a.Module != "" || len(a.Repositories) > 0
}

type rangeJSON struct {
	I string `json:"i,omitempty"`
	F string `json:"f,omitempty"`
	L string `json:"l,omitempty"`
}

// encodeAdvisory returns the record of a (without the key columns). a must
// have passed feedwrite.CheckNUL.
func encodeAdvisory(a *vuln.Advisory) (string, error) {
	var ranges string
	switch {
	case len(a.Ranges) == 0 && len(a.Versions) == 0 && !hasQualifiers(a):
	case len(a.Versions) == 0 && len(a.Ranges) == 1 && a.Ranges[0] == (vuln.Range{Fixed: a.FixedIn}) && !hasQualifiers(a):
		ranges = rangesFixedIn
	default:
		j := rangesJSON{A: a.Arches, M: a.Module, C: a.Repositories}
		if len(a.Ranges) > 0 {
			j.R = make([]rangeJSON, len(a.Ranges))
			for i, r := range a.Ranges {
				j.R[i] = rangeJSON{I: r.Introduced, F: r.Fixed, L: r.LastAffected}
			}
		}
		j.V = a.Versions
		b, err := json.Marshal(j)
		if err != nil {
			return "", err
		}
		ranges = string(b)
	}
	sev := strconv.Itoa(int(a.NormalizedSeverity))
	var b strings.Builder
	b.Grow(len(a.Name) + len(a.State) + len(a.VersionFormat) + len(a.FixedIn) + len(a.Severity) + len(sev) + len(ranges) + 6)
	for i, f := range [...]string{a.Name, string(a.State), a.VersionFormat, a.FixedIn, a.Severity, sev, ranges} {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(f)
	}
	return b.String(), nil
}

// cut splits the next field off s; more is false when it was the last.
func cut(s string) (field, rest string, more bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// splitRecords calls f with the fields of each record of n fields in s, a
// group_concat of records. The strings passed share s's memory.
func splitRecords(s string, n int, f func(fields []string) error) error {
	fields := make([]string, n)
	for {
		more := true
		for i := range n {
			if !more {
				return fmt.Errorf("truncated record: %d of %d fields", i, n)
			}
			fields[i], s, more = cut(s)
		}
		if err := f(fields); err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// advisoryDecoder turns records into advisories, allocating them (and the
// ranges of the common shape) in chunks rather than one by one.
type advisoryDecoder struct {
	namespace, feed string
	advs            []vuln.Advisory
	ranges          []vuln.Range
}

func (d *advisoryDecoder) decode(f []string) (*vuln.Advisory, error) {
	if len(d.advs) == 0 {
		d.advs = make([]vuln.Advisory, 128)
	}
	a := &d.advs[0]
	d.advs = d.advs[1:]
	a.Feed, a.Namespace = d.feed, d.namespace
	a.Package, a.Name, a.State, a.VersionFormat, a.FixedIn, a.Severity = f[0], f[1], vuln.State(f[2]), f[3], f[4], f[5]
	sev, err := strconv.Atoi(f[6])
	if err != nil {
		return nil, fmt.Errorf("%s %s: normalized severity: %w", a.Package, a.Name, err)
	}
	a.NormalizedSeverity = vuln.Severity(sev)
	switch r := f[7]; r {
	case "":
	case rangesFixedIn:
		if len(d.ranges) == 0 {
			d.ranges = make([]vuln.Range, 128)
		}
		// Capacity 1: an append by the caller must not write into the
		// next advisory's range.
		a.Ranges = d.ranges[0:1:1]
		a.Ranges[0] = vuln.Range{Fixed: a.FixedIn}
		d.ranges = d.ranges[1:]
	default:
		var j rangesJSON
		if err := json.Unmarshal([]byte(r), &j); err != nil {
			return nil, fmt.Errorf("%s %s: ranges %q: %w", a.Package, a.Name, r, err)
		}
		if len(j.R) > 0 {
			a.Ranges = make([]vuln.Range, len(j.R))
			for i, r := range j.R {
				a.Ranges[i] = vuln.Range{Introduced: r.I, Fixed: r.F, LastAffected: r.L}
			}
		}
		if len(j.V) > 0 {
			a.Versions = j.V
		}
		if len(j.A) > 0 {
			a.Arches = j.A
		}
		if len(j.C) > 0 {
			a.Repositories = j.C
		}
		a.Module = j.M
	}
	return a, nil
}

// encodeStrings stores a string list as a JSON array, "" when empty. HTML
// characters stay unescaped (URLs are full of '&'), so that most lists take
// decodePlainStrings' fast path.
func encodeStrings(s []string) (string, error) {
	if len(s) == 0 {
		return "", nil
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func decodeStrings(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if l, ok := decodePlainStrings(s); ok {
		return l, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// decodePlainStrings decodes what json.Marshal makes of a []string whose
// strings need no escaping (links and aliases, nearly always) without the
// reflection of encoding/json, which Details would otherwise spend a third
// of its time in. ok is false for anything else.
func decodePlainStrings(s string) (l []string, ok bool) {
	if len(s) < 4 || s[0] != '[' || s[len(s)-1] != ']' || strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	s = s[1 : len(s)-1]
	l = make([]string, 0, strings.Count(s, `","`)+1)
	for {
		if len(s) < 2 || s[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(s[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		l = append(l, s[1:end])
		s = s[end+1:]
		if s == "" {
			return l, true
		}
		if s[0] != ',' {
			return nil, false
		}
		s = s[1:]
	}
}

// encodeIssued stores Issued as RFC 3339 text in UTC, "" when zero. Text
// rather than Unix nanoseconds: feeds carry dates outside the int64 range.
func encodeIssued(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func decodeIssued(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Store timestamps are Unix nanoseconds. now is rounded through that form so
// that what a call returns equals what a later read returns.
func now() time.Time { return fromNanos(time.Now().UnixNano()) }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
