// Package maven compares Maven artifact versions the way Maven's
// ComparableVersion (maven-artifact) does: "1.0-alpha-1" < "1.0-SNAPSHOT" <
// "1.0" = "1.0.0" = "1-ga" < "1.0-sp" < "1.0-1" < "1.0.1".
//
// It is written here rather than taken from
// github.com/masahiro331/go-mvn-version, which the module proxy serves, for
// two defects that matter to a matcher: that library parses numeric items
// with strconv.Atoi and so clamps every number past 2^63 to the same value
// (Maven uses BigInteger: MNG-6572, and build timestamps such as
// "20190126230843123456789" do occur), and it slices the version by rune
// index while indexing bytes, which misparses any non-ASCII qualifier. It
// also formats strings on every comparison; this package compares without
// allocating.
//
// Where Maven releases differ, this follows maven-artifact 3.8/3.9 as osv.dev
// and its generated test fixtures did: numbers of any length, "ga", "final"
// and "release" as aliases of the release qualifier, "cr" of "rc", "a1",
// "b1", "m1" as alpha, beta, milestone when a digit follows, and a sublist
// compared to nothing by all of its items (MNG-6964). It does not follow
// Maven 4's rewrite of ".qualifier" handling, which reorders "2-1" and
// "2.0.a".
package maven

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "maven"

// MaxLen bounds the version strings Parse accepts: a version comes from an
// untrusted pom.properties or manifest, and its item tree is as deep as it
// has hyphens. Real versions are well under a hundred bytes.
const MaxLen = 1 << 10

func init() { version.Register(Scheme{}) }

// Scheme parses Maven versions.
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

// Version is a parsed Maven version.
type Version struct {
	items list
	s     string
}

type kind uint8

const (
	kindNum kind = iota
	kindStr
	kindList
)

// item is one element of ComparableVersion's item tree: a number (decimal
// digits without leading zeros, "" for zero, so that any length compares
// without big integers), a qualifier (aliases applied) or a sublist, which a
// hyphen or a digit/letter transition opens.
type item struct {
	kind kind
	s    string // kindNum: digits; kindStr: qualifier
	list list   // kindList
}

type list []item

// Parse reads a Maven version. Every string is a Maven version of some
// order; only the empty string and overlong or non-UTF-8 input are refused.
func Parse(s string) (Version, error) {
	switch {
	case s == "":
		return Version{}, fmt.Errorf("maven version: empty")
	case len(s) > MaxLen:
		return Version{}, fmt.Errorf("maven version: %d bytes, longer than %d", len(s), MaxLen)
	case !utf8.ValidString(s):
		return Version{}, fmt.Errorf("maven version %q: not UTF-8", s)
	}
	return Version{items: parse(s), s: s}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parse is ComparableVersion.parseVersion. The sublists are built as a
// stack of open lists, each closed (normalized and appended to its parent)
// when parsing ends.
func parse(v string) list {
	v = strings.ToLower(v)
	stack := []list{nil} // stack[0] is the root
	top := func() *list { return &stack[len(stack)-1] }
	open := func() { stack = append(stack, nil) }
	digits := false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' || c == '-':
			if i == start {
				*top() = append(*top(), item{kind: kindNum})
			} else {
				*top() = append(*top(), parseItem(digits, v[start:i], false))
			}
			start = i + 1
			if c == '-' {
				open()
			}
		case isDigit(c):
			if !digits && i > start {
				*top() = append(*top(), parseItem(false, v[start:i], true))
				start = i
				open()
			}
			digits = true
		default:
			if digits && i > start {
				*top() = append(*top(), parseItem(true, v[start:i], false))
				start = i
				open()
			}
			digits = false
		}
	}
	if len(v) > start {
		*top() = append(*top(), parseItem(digits, v[start:], false))
	}
	// Maven normalizes each list when parsing ends, innermost first, after
	// it was added to its parent: an empty sublist is a null item its
	// parent's normalization then drops.
	for len(stack) > 1 {
		l := stack[len(stack)-1].normalize()
		stack = stack[:len(stack)-1]
		*top() = append(*top(), item{kind: kindList, list: l})
	}
	return stack[0].normalize()
}

func parseItem(digits bool, s string, followedByDigit bool) item {
	if digits {
		return item{kind: kindNum, s: strings.TrimLeft(s, "0")}
	}
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	switch s {
	case "ga", "final", "release":
		s = ""
	case "cr":
		s = "rc"
	}
	return item{kind: kindStr, s: s}
}

// normalize drops the trailing null items (0, "", empty lists), looking
// through trailing sublists as Maven does.
func (l list) normalize() list {
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].isNull() {
			l = append(l[:i], l[i+1:]...)
		} else if l[i].kind != kindList {
			break
		}
	}
	return l
}

func (it item) isNull() bool {
	switch it.kind {
	case kindNum, kindStr:
		return it.s == ""
	}
	return len(it.list) == 0
}

// qualifiers are the known qualifiers in order; unknown ones sort after
// them, among themselves lexically. "" is the release.
var qualifiers = [...]string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

const releaseRank = 5

func rank(q string) int {
	for i, k := range qualifiers {
		if k == q {
			return i
		}
	}
	return len(qualifiers)
}

func cmpQualifier(a, b string) int {
	ra, rb := rank(a), rank(b)
	switch {
	case ra != rb:
		return sign(ra - rb)
	case ra == len(qualifiers):
		return strings.Compare(a, b)
	}
	return 0
}

func cmpNum(a, b string) int {
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func sign(c int) int { return version.Sign(c) }

// cmpNull compares an item with the absent item the shorter list is padded
// with.
func (it item) cmpNull() int {
	switch it.kind {
	case kindNum:
		if it.s == "" {
			return 0
		}
		return 1
	case kindStr:
		return sign(rank(it.s) - releaseRank)
	}
	for _, x := range it.list {
		if c := x.cmpNull(); c != 0 {
			return c
		}
	}
	return 0
}

// cmp is Item.compareTo: a number sorts after a sublist, which sorts after
// a qualifier ("1.1" > "1-1" > "1-sp").
func (it item) cmp(o item) int {
	if it.kind != o.kind {
		order := func(k kind) int {
			switch k {
			case kindStr:
				return 0
			case kindList:
				return 1
			}
			return 2
		}
		return sign(order(it.kind) - order(o.kind))
	}
	switch it.kind {
	case kindNum:
		return cmpNum(it.s, o.s)
	case kindStr:
		return cmpQualifier(it.s, o.s)
	}
	return it.list.cmp(o.list)
}

func (l list) cmp(o list) int {
	for i := 0; i < len(l) || i < len(o); i++ {
		var c int
		switch {
		case i >= len(l):
			c = -o[i].cmpNull()
		case i >= len(o):
			c = l[i].cmpNull()
		default:
			c = l[i].cmp(o[i])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1.
func (a Version) Cmp(b Version) int { return a.items.cmp(b.items) }

// String returns the version as given.
func (a Version) String() string { return a.s }

// Canonical is ComparableVersion.getCanonical: equal versions have equal
// canonical forms, and a canonical form parses to itself.
func (a Version) Canonical() string {
	var b strings.Builder
	a.items.format(&b)
	return b.String()
}

// hasEmptyQualifier reports whether the canonical form holds an empty
// qualifier, which reads back as a zero.
func (l list) hasEmptyQualifier() bool {
	for _, it := range l {
		if it.kind == kindStr && it.s == "" || it.kind == kindList && it.list.hasEmptyQualifier() {
			return true
		}
	}
	return false
}

func (l list) format(b *strings.Builder) {
	for i, it := range l {
		if i > 0 {
			if it.kind == kindList {
				b.WriteByte('-')
			} else {
				b.WriteByte('.')
			}
		}
		switch it.kind {
		case kindNum:
			if it.s == "" {
				b.WriteByte('0')
			} else {
				b.WriteString(it.s)
			}
		case kindStr:
			b.WriteString(it.s)
		default:
			it.list.format(b)
		}
	}
}
