// Package nuget compares NuGet package versions as NuGet.Versioning's
// default VersionComparer does: up to four numeric parts (missing ones are
// zero, so "1.0" = "1.0.0" = "1.0.0.0"), then release labels split on ".",
// where a version with labels sorts before the same version without,
// numeric labels compare as numbers and before alphanumeric ones,
// alphanumeric labels compare ordinally ignoring case ("RC1" = "rc1"), and
// build metadata ("+sha") is ignored.
//
// No Go library the module proxy serves implements NuGet's rules (the
// generic SemVer ones compare labels case-sensitively and refuse four-part
// versions), hence this one.
package nuget

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "nuget"

func init() { version.Register(Scheme{}) }

// Scheme parses NuGet versions.
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

// maxLen bounds a version string; NuGet itself caps package versions far
// lower in practice.
const maxLen = 256

// Version is a parsed NuGet version.
type Version struct {
	nums   [4]*big.Int
	labels []string
	s      string
}

// Parse reads a NuGet version as NuGetVersion.TryParse does:
// N[.N[.N[.N]]][-label[.label]*][+metadata], numbers in decimal (leading
// zeros allowed: "1.01" is "1.1"), labels of letters, digits and "-".
func Parse(s string) (Version, error) {
	bad := func(why string) (Version, error) {
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return Version{}, fmt.Errorf("nuget version %q: %s", s, why)
	}
	if len(s) > maxLen {
		return bad("too long")
	}
	rest, meta, hasMeta := strings.Cut(s, "+")
	if hasMeta && !validIdents(meta) {
		return bad("malformed build metadata")
	}
	core, label, hasLabel := strings.Cut(rest, "-")
	var v Version
	parts := strings.Split(core, ".")
	if len(parts) > 4 {
		return bad("more than four numeric parts")
	}
	for i, p := range parts {
		if p == "" || strings.TrimLeft(p, "0123456789") != "" {
			return bad("malformed numeric part")
		}
		n, _ := new(big.Int).SetString(p, 10)
		v.nums[i] = n
	}
	for i := len(parts); i < 4; i++ {
		v.nums[i] = new(big.Int)
	}
	if hasLabel {
		if !validIdents(label) {
			return bad("malformed release label")
		}
		v.labels = strings.Split(label, ".")
	}
	v.s = s
	return v, nil
}

// validIdents reports whether s is dot-separated non-empty runs of
// [0-9A-Za-z-].
func validIdents(s string) bool {
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1.
func (a Version) Cmp(b Version) int {
	for i := range a.nums {
		if c := a.nums[i].Cmp(b.nums[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.labels) == 0 && len(b.labels) == 0:
		return 0
	case len(a.labels) == 0:
		return 1
	case len(b.labels) == 0:
		return -1
	}
	for i := 0; i < len(a.labels) && i < len(b.labels); i++ {
		if c := compareLabel(a.labels[i], b.labels[i]); c != 0 {
			return c
		}
	}
	return version.Sign(len(a.labels) - len(b.labels))
}

// compareLabel is NuGet's VersionComparer.CompareRelease: Int32.TryParse
// decides what is numeric (so "-1" is, and a number past 2^31-1 is not).
func compareLabel(a, b string) int {
	an, aErr := strconv.ParseInt(a, 10, 32)
	bn, bErr := strconv.ParseInt(b, 10, 32)
	switch {
	case aErr == nil && bErr == nil:
		return version.Sign(int(an - bn))
	case aErr == nil:
		return -1
	case bErr == nil:
		return 1
	}
	return strings.Compare(strings.ToUpper(a), strings.ToUpper(b))
}

// Prerelease reports whether the version has release labels.
func (a Version) Prerelease() bool { return len(a.labels) > 0 }

func (a Version) String() string { return a.s }
