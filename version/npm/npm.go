// Package npm compares npm package versions (node-semver: SemVer 2.0.0 with
// prerelease ordering, an optional leading "v" or "=" tolerated) with
// github.com/aquasecurity/go-npm-version.
package npm

import (
	"fmt"
	"strings"

	npmver "github.com/aquasecurity/go-npm-version/pkg"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "npm"

func init() { version.Register(Scheme{}) }

// Scheme parses npm versions.
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

// Version is a parsed npm version.
type Version struct {
	v npmver.Version
	s string
}

// Parse reads an npm version. A leading "v" is accepted, as node-semver
// accepts it.
func Parse(s string) (Version, error) {
	v, err := npmver.NewVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return Version{}, fmt.Errorf("npm version %q: %w", s, err)
	}
	return Version{v: v, s: s}, nil
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1. Build metadata is ignored.
func (a Version) Cmp(b Version) int { return version.Sign(a.v.Compare(b.v)) }

func (a Version) String() string { return a.s }
