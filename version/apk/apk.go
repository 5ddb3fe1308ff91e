// Package apk compares Alpine package versions with apk-tools' rules, through
// knqyf263/go-apk-version.
package apk

import (
	"fmt"

	apkver "github.com/knqyf263/go-apk-version"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "apk"

func init() { version.Register(Scheme{}) }

// Scheme parses apk versions.
type Scheme struct{}

var _ version.Scheme = Scheme{}

// Name implements version.Scheme.
func (Scheme) Name() string { return Name }

// Parse implements version.Scheme.
func (Scheme) Parse(s string) (version.Version, error) {
	v, err := apkver.NewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("apk version %q: %w", s, err)
	}
	return Version{v: v}, nil
}

// Version is a parsed apk version.
type Version struct{ v apkver.Version }

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return version.Sign(a.v.Compare(b.(Version).v)) }

func (a Version) String() string { return string(a.v) }
