// Package rubygems compares RubyGems versions as Gem::Version does
// (rubygems/lib/rubygems/version.rb): the version is split into numeric and
// alphabetic segments ("1.0.0.rc1" → 1, 0, 0, "rc", 1), "-" stands for
// ".pre.", trailing zeros of the release and of the pre-release parts are
// dropped, and a version with a letter in it is a pre-release that sorts
// before the release ("2.0.0.beta" < "2.0.0").
//
// It is a port, not a wrapper of github.com/aquasecurity/go-gem-version (the
// one Go library the module proxy serves for this): that library splits
// segments on single letters where RubyGems takes runs of letters
// ([0-9]+|[a-z]+), which orders "1.0.0.b" after "1.0.0.beta" and
// "1.0.0.pre" after "1.0.0.p"; RubyGems orders them the other way.
package rubygems

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "rubygems"

func init() { version.Register(Scheme{}) }

// Scheme parses RubyGems versions.
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

// Gem::Version::ANCHORED_VERSION_PATTERN (RubyGems 3.x).
var versionRE = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$`)

// segmentRE is Gem::Version#_segments' scan pattern.
var segmentRE = regexp.MustCompile(`[0-9]+|[a-zA-Z]+`)

// maxLen bounds a version string; real ones are a few dozen bytes.
const maxLen = 256

// segment is a number or a run of letters.
type segment struct {
	num   *big.Int // nil for a string segment
	alpha string
}

// Version is a parsed RubyGems version.
type Version struct {
	canon []segment // Gem::Version#canonical_segments
	s     string
}

// Parse reads a RubyGems version: what Gem::Version.correct? accepts. An
// empty (or blank) string is version "0", as in RubyGems.
func Parse(s string) (Version, error) {
	if len(s) > maxLen {
		return Version{}, fmt.Errorf("rubygems version %q: longer than %d bytes", s[:32]+"…", maxLen)
	}
	if !versionRE.MatchString(s) {
		return Version{}, fmt.Errorf("rubygems version %q: malformed", s)
	}
	v := strings.TrimSpace(s)
	if v == "" {
		v = "0"
	}
	v = strings.ReplaceAll(v, "-", ".pre.")
	var segs []segment
	for _, p := range segmentRE.FindAllString(v, -1) {
		if p[0] >= '0' && p[0] <= '9' {
			n, _ := new(big.Int).SetString(p, 10)
			segs = append(segs, segment{num: n})
		} else {
			segs = append(segs, segment{alpha: p})
		}
	}
	// canonical_segments: the numeric part up to the first string and the
	// rest, each without its trailing zeros.
	i := 0
	for i < len(segs) && segs[i].num != nil {
		i++
	}
	canon := append(trimZeros(segs[:i:i]), trimZeros(segs[i:])...)
	return Version{canon: canon, s: s}, nil
}

func trimZeros(s []segment) []segment {
	for len(s) > 0 && s[len(s)-1].num != nil && s[len(s)-1].num.Sign() == 0 {
		s = s[:len(s)-1]
	}
	return s
}

var zero = segment{num: new(big.Int)}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1, as Gem::Version#<=>.
func (a Version) Cmp(b Version) int {
	n := max(len(a.canon), len(b.canon))
	for i := range n {
		l, r := zero, zero
		if i < len(a.canon) {
			l = a.canon[i]
		}
		if i < len(b.canon) {
			r = b.canon[i]
		}
		switch {
		case l.num != nil && r.num != nil:
			if c := l.num.Cmp(r.num); c != 0 {
				return c
			}
		case l.num == nil && r.num == nil:
			if c := strings.Compare(l.alpha, r.alpha); c != 0 {
				return c
			}
		case l.num == nil: // a string sorts before a number
			return -1
		default:
			return 1
		}
	}
	return 0
}

// Prerelease reports whether the version has a letter in it.
func (a Version) Prerelease() bool {
	for _, s := range a.canon {
		if s.num == nil {
			return true
		}
	}
	return false
}

func (a Version) String() string { return a.s }
