// Package pep503 normalizes Python distribution names as PEP 503 says, so
// that the index side (names read from installed METADATA) and the feed
// side (names in advisories) key packages identically.
package pep503

import "strings"

// Normalize is PEP 503's re.sub(r"[-_.]+", "-", name).lower(): lowercase
// (ASCII, as package names are), and every run of "-", "_" and "." becomes
// one "-", at the ends too ("foo_" → "foo-", "_foo" → "-foo").
func Normalize(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}
