// Package digest is the one home of the content digests the APIs accept
// ("sha256:" and 64, or "sha512:" and 128, lowercase hex digits, as the
// OCI image spec writes them): a layer's digest is the key its scan
// results are cached under, so it must be exact.
package digest

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
)

// Digest is a checked digest; only Parse makes one.
type Digest struct{ s string }

// Parse checks s and returns it as a Digest; the error says what is wrong
// with it.
func Parse(s string) (Digest, error) {
	alg, hexs, ok := strings.Cut(s, ":")
	if !ok {
		return Digest{}, fmt.Errorf("%q is not a digest (want sha256:<64 hex digits>)", s)
	}
	var n int
	switch alg {
	case "sha256":
		n = 64
	case "sha512":
		n = 128
	default:
		return Digest{}, fmt.Errorf("%q: unsupported algorithm %q (want sha256 or sha512)", s, alg)
	}
	if len(hexs) != n {
		return Digest{}, fmt.Errorf("%q: want %d hex digits after %q, have %d", s, n, alg+":", len(hexs))
	}
	for _, c := range hexs {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return Digest{}, fmt.Errorf("%q: want lowercase hex digits after %q", s, alg+":")
		}
	}
	return Digest{s}, nil
}

// Valid reports whether s parses.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

func (d Digest) String() string { return d.s }

// Algorithm is "sha256" or "sha512".
func (d Digest) Algorithm() string { a, _, _ := strings.Cut(d.s, ":"); return a }

// Hash returns a new hash of d's algorithm.
func (d Digest) Hash() hash.Hash {
	if d.Algorithm() == "sha512" {
		return sha512.New()
	}
	return sha256.New()
}
