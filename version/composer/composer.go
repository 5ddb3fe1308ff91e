// Package composer compares Composer (Packagist) package versions the way
// Composer does: each version is first normalized by Composer's
// VersionParser::normalize ("v1.2" → "1.2.0.0", "2.0-b3" → "2.0.0.0-beta3",
// "1.0.x-dev" → "1.0.9999999.9999999-dev", "3.1.2-pl1" → "3.1.2.0-patch1")
// and the normalized forms are compared with PHP's version_compare, in
// which "dev" < "alpha" = "a" < "beta" = "b" < "RC" = "rc" < a number <
// "patch" = "pl" = "p".
//
// No Go library the module proxy serves implements these rules (generic
// SemVer comparators order "RC" before "beta" by byte value and take
// "-patch1" for a pre-release), hence this one: a port of
// composer/semver's VersionParser::normalize and of
// php-src's ext/standard/versioning.c.
//
// Branch versions ("dev-master", "dev-feature/x") name no point in the
// version order; Composer never matches them against a range, and Parse
// refuses them.
package composer

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "composer"

func init() { version.Register(Scheme{}) }

// Scheme parses Composer versions.
type Scheme struct{}

var _ version.Scheme = Scheme{}

// Name implements version.Scheme.
func (Scheme) Name() string { return Name }

// Parse implements version.Scheme.
func (Scheme) Parse(s string) (version.Version, error) {
	v, err := Parse(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// maxLen bounds a version string.
const maxLen = 256

// ErrBranch is returned for a branch version ("dev-master").
var ErrBranch = errors.New("a branch, not a version")

// Version is a parsed Composer version.
type Version struct {
	norm  string // Composer's normalized form
	parts []part // norm canonicalized by PHP's rules
	s     string
}

// part is one element of a canonicalized version: a number, or a word
// ranked by PHP's special forms.
type part struct {
	num  *big.Int // nil for a word
	rank int      // for a word: -1 unknown, 0 dev, 1 alpha, 2 beta, 3 RC, 5 patch
}

// numRank is the rank a number has among words ("#" in PHP's table).
const numRank = 4

const modifier = `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?`

var (
	aliasRE     = regexp.MustCompile(`^([^,\s]+) +as +([^,\s]+)$`)
	stabilityRE = regexp.MustCompile(`(?i)@(?:stable|RC|beta|alpha|dev)$`)
	buildRE     = regexp.MustCompile(`^([^,\s+]+)\+[^\s]+$`)
	classicalRE = regexp.MustCompile(`(?i)^v?(\d{1,5})(\.\d+)?(\.\d+)?(\.\d+)?` + modifier + `$`)
	dateRE      = regexp.MustCompile(`(?i)^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})` + modifier + `$`)
	devRE       = regexp.MustCompile(`(?i)^(.*?)[.-]?dev$`)
	branchRE    = regexp.MustCompile(`(?i)^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$`)
	nonDigitRE  = regexp.MustCompile(`\D`)
)

// Normalize is Composer's VersionParser::normalize. Branches come back as
// "dev-NAME" with ErrBranch.
func Normalize(v string) (string, error) {
	v = strings.TrimSpace(v)
	if m := aliasRE.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	if m := stabilityRE.FindString(v); m != "" {
		v = v[:len(v)-len(m)]
	}
	switch v {
	case "master", "trunk", "default":
		v = "dev-" + v
	}
	if len(v) >= 4 && strings.EqualFold(v[:4], "dev-") {
		return "dev-" + v[4:], ErrBranch
	}
	if m := buildRE.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	var m []string
	var out string
	if m = classicalRE.FindStringSubmatch(v); m != nil {
		out = m[1]
		for _, p := range m[2:5] {
			if p == "" {
				p = ".0"
			}
			out += p
		}
		m = m[5:]
	} else if m = dateRE.FindStringSubmatch(v); m != nil {
		out = nonDigitRE.ReplaceAllString(m[1], ".")
		m = m[2:]
	}
	if m != nil {
		if m[0] != "" {
			if m[0] == "stable" {
				return out, nil
			}
			out += "-" + expandStability(m[0]) + strings.TrimLeft(m[1], ".-")
		}
		if m[2] != "" {
			out += "-dev"
		}
		return out, nil
	}
	if m := devRE.FindStringSubmatch(v); m != nil {
		if b := normalizeBranch(m[1]); !strings.HasPrefix(b, "dev-") {
			return b, nil
		}
	}
	return "", errors.New("invalid version string")
}

func expandStability(s string) string {
	switch s = strings.ToLower(s); s {
	case "a":
		return "alpha"
	case "b":
		return "beta"
	case "p", "pl":
		return "patch"
	case "rc":
		return "RC"
	}
	return s
}

// normalizeBranch is VersionParser::normalizeBranch: "1.x" →
// "1.9999999.9999999.9999999-dev".
func normalizeBranch(name string) string {
	name = strings.TrimSpace(name)
	m := branchRE.FindStringSubmatch(name)
	if m == nil {
		return "dev-" + name
	}
	var b strings.Builder
	for _, p := range m[1:5] {
		if p == "" {
			p = ".x"
		}
		b.WriteString(strings.NewReplacer("*", "x", "X", "x").Replace(p))
	}
	return strings.ReplaceAll(b.String(), "x", "9999999") + "-dev"
}

// Parse normalizes a Composer version. Branches ("dev-main") and strings
// Composer refuses are errors.
func Parse(s string) (Version, error) {
	short := s
	if len(short) > 64 {
		short = short[:64] + "…"
	}
	if len(s) > maxLen {
		return Version{}, fmt.Errorf("composer version %q: too long", short)
	}
	norm, err := Normalize(s)
	if err != nil {
		return Version{}, fmt.Errorf("composer version %q: %w", short, err)
	}
	return Version{norm: norm, parts: canonicalize(norm), s: s}, nil
}

// canonicalize is php_canonicalize_version split on ".": "-", "_" and "+"
// become ".", a "." goes between a digit and a non-digit, other
// non-alphanumerics become ".", and runs of "." are one.
func canonicalize(v string) []part {
	var out []part
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	i := 0
	for i < len(v) {
		c := v[i]
		switch {
		case isDigit(c):
			j := i
			for j < len(v) && isDigit(v[j]) {
				j++
			}
			n, _ := new(big.Int).SetString(v[i:j], 10)
			out = append(out, part{num: n})
			i = j
		case isAlnum(c):
			j := i
			for j < len(v) && isAlnum(v[j]) && !isDigit(v[j]) {
				j++
			}
			out = append(out, part{rank: specialRank(v[i:j])})
			i = j
		default:
			i++
		}
	}
	return out
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// specialRank is compare_special_version_forms' lookup: the first entry of
// PHP's table that is a prefix of the word.
func specialRank(w string) int {
	for _, f := range []struct {
		name string
		rank int
	}{{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2}, {"RC", 3}, {"rc", 3}, {"#", numRank}, {"pl", 5}, {"p", 5}} {
		if strings.HasPrefix(w, f.name) {
			return f.rank
		}
	}
	return -1
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1, as PHP's version_compare compares
// their normalized forms.
func (a Version) Cmp(b Version) int {
	n := min(len(a.parts), len(b.parts))
	for i := range n {
		l, r := a.parts[i], b.parts[i]
		var c int
		switch {
		case l.num != nil && r.num != nil:
			c = l.num.Cmp(r.num)
		case l.num != nil:
			c = version.Sign(numRank - r.rank)
		case r.num != nil:
			c = version.Sign(l.rank - numRank)
		default:
			c = version.Sign(l.rank - r.rank)
		}
		if c != 0 {
			return c
		}
	}
	// One ran out: a further number makes the longer one greater, a further
	// word ranks against a number ("1.0.0.0-beta" < "1.0.0.0").
	switch {
	case len(a.parts) > n:
		if a.parts[n].num != nil {
			return 1
		}
		return version.Sign(a.parts[n].rank - numRank)
	case len(b.parts) > n:
		if b.parts[n].num != nil {
			return -1
		}
		return version.Sign(numRank - b.parts[n].rank)
	}
	return 0
}

// Normalized is Composer's normalized form: "v1.2" → "1.2.0.0".
func (a Version) Normalized() string { return a.norm }

func (a Version) String() string { return a.s }
