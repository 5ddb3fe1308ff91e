package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/openclair/clair/vuln"
)

// The ranges column (see migrations/0001_init.sql): "" for none, "=" for the
// one range {Fixed: FixedIn}, otherwise JSON with short keys.
const rangesFixedIn = "="

type rangeJSON struct {
	I string `json:"i,omitempty"`
	F string `json:"f,omitempty"`
	L string `json:"l,omitempty"`
}

// qualifiedJSON is the ranges column of an advisory with qualifiers
// (vuln.Advisory.Arches, Module, Repositories): an object rather than the
// plain array, so that the common shapes stay as small as they were.
type qualifiedJSON struct {
	R []rangeJSON `json:"r,omitempty"`
	A []string    `json:"a,omitempty"`
	M string      `json:"m,omitempty"`
	C []string    `json:"c,omitempty"`
}

func hasQualifiers(a *vuln.Advisory) bool {
	return len(a.Arches) > 0 || a.Module != "" || len(a.Repositories) > 0
}

func encodeRanges(a *vuln.Advisory) (string, error) {
	q := hasQualifiers(a)
	switch {
	case len(a.Ranges) == 0 && !q:
		return "", nil
	case len(a.Ranges) == 1 && a.Ranges[0] == vuln.Range{Fixed: a.FixedIn} && !q:
		return rangesFixedIn, nil
	}
	var rs []rangeJSON
	if len(a.Ranges) > 0 {
		rs = make([]rangeJSON, len(a.Ranges))
		for i, r := range a.Ranges {
			rs[i] = rangeJSON{I: r.Introduced, F: r.Fixed, L: r.LastAffected}
		}
	}
	var v any = rs
	if q {
		v = qualifiedJSON{R: rs, A: a.Arches, M: a.Module, C: a.Repositories}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // versions are not HTML; keep them readable in psql
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// decodeRanges sets a's Ranges (and qualifiers) from the column s. It
// allocates new slices each call: callers may edit an advisory's ranges.
func decodeRanges(a *vuln.Advisory, s string) error {
	switch {
	case s == "":
		return nil
	case s == rangesFixedIn:
		a.Ranges = []vuln.Range{{Fixed: a.FixedIn}}
		return nil
	}
	var rs []rangeJSON
	if s[0] == '{' {
		var q qualifiedJSON
		if err := json.Unmarshal([]byte(s), &q); err != nil {
			return fmt.Errorf("ranges %q: %w", s, err)
		}
		rs, a.Module = q.R, q.M
		if len(q.A) > 0 {
			a.Arches = q.A
		}
		if len(q.C) > 0 {
			a.Repositories = q.C
		}
	} else if err := json.Unmarshal([]byte(s), &rs); err != nil {
		return fmt.Errorf("ranges %q: %w", s, err)
	}
	if len(rs) > 0 {
		a.Ranges = make([]vuln.Range, len(rs))
		for i, r := range rs {
			a.Ranges[i] = vuln.Range{Introduced: r.I, Fixed: r.F, LastAffected: r.L}
		}
	}
	return nil
}

// nilIfEmpty maps an empty slice to nil, stored as NULL: stores need not keep
// the difference, and NULL costs nothing to read.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

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
