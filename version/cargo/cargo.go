// Package cargo compares crates.io versions: SemVer 2.0.0 without a leading
// "v", as Cargo's semver crate reads them, with golang.org/x/mod/semver doing
// the comparison on the "v"-prefixed form. Precedence follows the SemVer
// spec: pre-releases sort before their release, numeric identifiers
// numerically and before alphanumeric ones, and build metadata ("+abc") is
// ignored. (The semver crate's Ord also orders build metadata, but only to
// make the order total; OSV's SEMVER ranges, like the spec, ignore it.)
//
// Shorthand "0.16" and "1" are accepted and read as "0.16.0" and "1.0.0":
// Cargo never publishes them, but GHSA's crates.io records use them as range
// bounds (osv.dev's export has "0.16", "0.20", "1.72", "0").
package cargo

import (
	"fmt"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "cargo"

func init() { version.Register(Scheme{}) }

// Scheme parses crates.io versions.
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

// Version is a valid crates.io version.
type Version struct {
	v string // "v" + the version, for x/mod/semver
	s string
}

// Parse validates a crates.io version. A leading "v" is refused: Cargo
// refuses it too.
func Parse(s string) (Version, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return Version{}, fmt.Errorf("cargo version %q: does not start with a digit", s)
	}
	v := "v" + s
	if !semver.IsValid(v) {
		return Version{}, fmt.Errorf("cargo version %q: not a semantic version", s)
	}
	// x/mod/semver takes "v1.2-pre" as invalid and "v1.2" as "v1.2.0"; it
	// also accepts what the spec does in pre-release and build parts.
	return Version{v: v, s: s}, nil
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1.
func (a Version) Cmp(b Version) int { return version.Sign(semver.Compare(a.v, b.v)) }

// Prerelease reports whether the version has a pre-release part.
func (a Version) Prerelease() bool { return semver.Prerelease(a.v) != "" }

func (a Version) String() string { return a.s }

// Canonical is the full three-part form without build metadata: "0.16" →
// "0.16.0".
func (a Version) Canonical() string { return strings.TrimPrefix(semver.Canonical(a.v), "v") }
