package composer

import (
	"testing"

	"github.com/openclair/clair/version/versiontest"
)

// FuzzConsistent checks that whatever versions parse compare as a total
// order: reflexive, antisymmetric, transitive, and without panics.
func FuzzConsistent(f *testing.F) {
	for _, s := range [][3]string{{"1.0", "1.0.1", "2"}, {"1.0.0-rc.1", "1.0.0", "1.0.0+b"}, {"1:1.0-1", "1.0~rc1", "0.9-r1"}, {"", "0", "v1"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		versiontest.Consistent(t, Scheme{}, a, b, c)
	})
}
