// Package deb compares Debian package versions (epoch:upstream-revision) with
// dpkg's rules, through knqyf263/go-deb-version.
package deb

import (
	"fmt"

	debver "github.com/knqyf263/go-deb-version"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "dpkg"

func init() { version.Register(Scheme{}) }

// Scheme parses dpkg versions.
type Scheme struct{}

var _ version.Scheme = Scheme{}

// Name implements version.Scheme.
func (Scheme) Name() string { return Name }

// Parse implements version.Scheme.
func (Scheme) Parse(s string) (version.Version, error) {
	v, err := debver.NewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("dpkg version %q: %w", s, err)
	}
	return Version{v: v, s: s}, nil
}

// Version is a parsed dpkg version.
type Version struct {
	v debver.Version
	s string
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return version.Sign(a.v.Compare(b.(Version).v)) }

func (a Version) String() string { return a.s }
