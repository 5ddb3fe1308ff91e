// Package pep440 compares Python package versions with PEP 440's rules
// (epochs, pre-, post- and dev-releases, local versions) using
// github.com/aquasecurity/go-pep440-version.
package pep440

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	pep440 "github.com/aquasecurity/go-pep440-version"

	"github.com/openclair/clair/version"
)

// Name is the scheme name advisories use.
const Name = "pep440"

func init() { version.Register(Scheme{}) }

// Scheme parses PEP 440 versions.
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

// Version is a parsed PEP 440 version. The library validates and
// normalizes; comparison runs on a key computed once here, because the
// library's Compare formats both versions and builds slices on every call
// (1.5 µs and 18 allocations per comparison).
type Version struct {
	k key
	s string
}

// key is packaging's comparison key (packaging/version.py _cmpkey).
type key struct {
	epoch   uint64
	release []uint64 // trailing zeros removed
	preRank int      // 0: dev-only release (before all pre-releases), 1: a, 2: b, 3: rc, 4: none
	preN    uint64
	post    bool // a post-release sorts after the same version without one
	postN   uint64
	dev     bool // a dev release sorts before the same version without one
	devN    uint64
	local   []localPart // nil: no local version, which sorts first
}

type localPart struct {
	num   bool // numeric segments sort after alphanumeric ones
	n     uint64
	alpha string
}

// Parse reads a PEP 440 version; non-normalized spellings ("1.0RC1",
// "v1.0", "1.0-post1") are accepted as PEP 440 says.
func Parse(s string) (Version, error) {
	v, err := pep440.Parse(s)
	if err != nil {
		return Version{}, fmt.Errorf("pep440 version %q: %w", s, err)
	}
	k, err := parseKey(v.String())
	if err != nil {
		return Version{}, fmt.Errorf("pep440 version %q: %w", s, err)
	}
	return Version{k: k, s: s}, nil
}

// parseKey reads the library's normalized form:
// [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local].
func parseKey(n string) (key, error) {
	var k key
	bad := func() (key, error) { return key{}, fmt.Errorf("unexpected normalized form %q", n) }
	num := func() (uint64, bool) {
		i := 0
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, false
		}
		v, err := strconv.ParseUint(n[:i], 10, 64)
		n = n[i:]
		return v, err == nil
	}
	if i := strings.IndexByte(n, '!'); i >= 0 {
		e, err := strconv.ParseUint(n[:i], 10, 64)
		if err != nil {
			return bad()
		}
		k.epoch, n = e, n[i+1:]
	}
	local := ""
	if i := strings.IndexByte(n, '+'); i >= 0 {
		n, local = n[:i], n[i+1:]
	}
	for {
		r, ok := num()
		if !ok {
			return bad()
		}
		k.release = append(k.release, r)
		if len(n) < 2 || n[0] != '.' || n[1] < '0' || n[1] > '9' {
			break
		}
		n = n[1:]
	}
	for len(k.release) > 0 && k.release[len(k.release)-1] == 0 {
		k.release = k.release[:len(k.release)-1]
	}
	k.preRank = 4
	for i, l := range []string{"a", "b", "rc"} {
		if rest, ok := strings.CutPrefix(n, l); ok {
			n = rest
			pn, ok := num()
			if !ok {
				return bad()
			}
			k.preRank, k.preN = i+1, pn
			break
		}
	}
	if rest, ok := strings.CutPrefix(n, ".post"); ok {
		n = rest
		pn, ok := num()
		if !ok {
			return bad()
		}
		k.post, k.postN = true, pn
	}
	if rest, ok := strings.CutPrefix(n, ".dev"); ok {
		n = rest
		dn, ok := num()
		if !ok {
			return bad()
		}
		k.dev, k.devN = true, dn
	}
	if n != "" {
		return bad()
	}
	if k.preRank == 4 && !k.post && k.dev {
		k.preRank = 0
	}
	if local != "" {
		for _, seg := range strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
			if v, err := strconv.ParseUint(seg, 10, 64); err == nil {
				k.local = append(k.local, localPart{num: true, n: v})
			} else {
				k.local = append(k.local, localPart{alpha: strings.ToLower(seg)})
			}
		}
	}
	return k, nil
}

// Compare implements version.Version.
func (a Version) Compare(b version.Version) int { return a.Cmp(b.(Version)) }

// Cmp compares two versions: -1, 0 or +1.
func (a Version) Cmp(b Version) int {
	x, y := &a.k, &b.k
	if c := cmp.Compare(x.epoch, y.epoch); c != 0 {
		return c
	}
	if c := slices.Compare(x.release, y.release); c != 0 {
		return c
	}
	if c := cmp.Compare(x.preRank, y.preRank); c != 0 {
		return c
	}
	if c := cmp.Compare(x.preN, y.preN); c != 0 {
		return c
	}
	if c := cmpBool(x.post, y.post); c != 0 {
		return c
	}
	if c := cmp.Compare(x.postN, y.postN); c != 0 {
		return c
	}
	if c := cmpBool(!x.dev, !y.dev); c != 0 { // no dev segment sorts last
		return c
	}
	if c := cmp.Compare(x.devN, y.devN); c != 0 {
		return c
	}
	if c := cmpBool(x.local != nil, y.local != nil); c != 0 {
		return c
	}
	return slices.CompareFunc(x.local, y.local, func(p, q localPart) int {
		if c := cmpBool(p.num, q.num); c != 0 {
			return c
		}
		if p.num {
			return cmp.Compare(p.n, q.n)
		}
		return strings.Compare(p.alpha, q.alpha)
	})
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func (a Version) String() string { return a.s }
