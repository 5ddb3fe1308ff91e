// Package rpm compares RPM package versions ([epoch:]version[-release]) with
// rpm's EVR rules: the epoch (0 when absent) numerically, then rpmvercmp on
// the version and then on the release. In rpmvercmp '~' sorts before
// everything, even the end of the string, and '^' after the end of the string
// but before anything else. The comparison is knqyf263/go-rpm-version's.
package rpm

import (
	"fmt"
	"strconv"
	"strings"

	rpmver "github.com/knqyf263/go-rpm-version"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "rpm"

func init() { version.Register(Scheme{}) }

// Scheme parses rpm versions.
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

// Version is a parsed rpm version.
type Version struct {
	v rpmver.Version
	s string
}

// maxEpoch is rpm's: the epoch is a 32-bit tag.
const maxEpoch = 1<<32 - 1

// Parse reads "[epoch:]version[-release]". The release is what follows the
// last '-', as in rpm; since the comparison library splits at the first one,
// a version part that itself holds a '-' (which rpmbuild refuses) is an
// error rather than a silently different comparison.
func Parse(s string) (Version, error) {
	bad := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("rpm version %q: %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return bad("contains whitespace or control characters")
	}
	rest := s
	if e, r, ok := strings.Cut(s, ":"); ok {
		if e == "" {
			return bad("empty epoch")
		}
		n, err := strconv.ParseUint(e, 10, 64)
		if err != nil || n > maxEpoch {
			return bad("epoch is not a number from 0 to 4294967295")
		}
		rest = r
	}
	if strings.Contains(rest, ":") {
		return bad("more than one ':'")
	}
	ver, rel, hasRel := strings.Cut(rest, "-")
	switch {
	case ver == "":
		return bad("empty version")
	case hasRel && rel == "":
		return bad("empty release after '-'")
	case strings.Contains(rel, "-"):
		return bad("more than one '-' after the epoch")
	}
	return Version{v: rpmver.NewVersion(s), s: s}, nil
}

// MustParse is Parse for constants; it panics on error.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two rpm versions, returning -1, 0 or +1. A missing epoch is 0,
// and a missing release compares as rpm's rpmvercmp does an empty string,
// below any release.
func (a Version) Cmp(b Version) int { return version.Sign(a.v.Compare(b.v)) }

// Epoch, Ver and Release return the parts; Epoch is 0 when absent.
func (a Version) Epoch() int { return a.v.Epoch() }

// Ver returns the version part, without epoch or release.
func (a Version) Ver() string { return a.v.Version() }

// Release returns the release part, "" when absent.
func (a Version) Release() string { return a.v.Release() }

// String returns the version as it was parsed.
func (a Version) String() string { return a.s }
