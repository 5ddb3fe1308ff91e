// Package semver compares Go module versions ("v1.2.3", "v2.0.0+incompatible",
// pseudo-versions "v0.0.0-20210101000000-abcdef123456") with
// golang.org/x/mod/semver, the comparison the go command itself uses. The
// leading "v" is required, as in go.mod and build info; feeds whose upstream
// omits it (OSV's Go records) add it.
package semver

import (
	"fmt"

	"golang.org/x/mod/semver"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "semver"

func init() { version.Register(Scheme{}) }

// Scheme parses Go module versions.
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

// Version is a valid Go module version.
type Version struct{ s string }

// Parse validates a Go module version. "+incompatible" and other build
// metadata are accepted and, as semver says, ignored by comparisons.
func Parse(s string) (Version, error) {
	if !semver.IsValid(s) {
		return Version{}, fmt.Errorf("semver version %q: not a valid semantic version with a leading \"v\"", s)
	}
	return Version{s: s}, nil
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1.
func (a Version) Cmp(b Version) int { return version.Sign(semver.Compare(a.s, b.s)) }

func (a Version) String() string { return a.s }
