// Package version names the version schemes of the ecosystems and keeps their
// registry: an advisory says which scheme its versions follow
// (Advisory.VersionFormat), and the matcher looks the scheme up here.
package version

import (
	"fmt"
	"sort"
	"sync"
)

// Version is a parsed version of one scheme. Compare returns -1, 0 or +1;
// comparing versions of different schemes is a programming error and panics.
type Version interface {
	Compare(Version) int
	String() string
}

// Scheme parses version strings of one ecosystem.
type Scheme interface {
	Name() string
	Parse(s string) (Version, error)
}

var (
	mu      sync.RWMutex
	schemes = map[string]Scheme{}
)

// Register makes a scheme available by name; it panics on nil or duplicates.
func Register(s Scheme) {
	if s == nil {
		panic("version: Register of nil scheme")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := schemes[s.Name()]; dup {
		panic(fmt.Sprintf("version: Register called twice for %q", s.Name()))
	}
	schemes[s.Name()] = s
}

// Lookup returns the scheme of that name.
func Lookup(name string) (Scheme, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := schemes[name]
	return s, ok
}

// Names lists the registered schemes, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(schemes))
	for n := range schemes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Sign normalizes a comparator's result to -1, 0 or +1: the libraries
// wrapped here return arbitrary magnitudes.
func Sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
