package digest

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := []string{"sha256:" + strings.Repeat("a", 64), "sha512:" + strings.Repeat("0", 128)}
	for _, s := range good {
		d, err := Parse(s)
		if err != nil || d.String() != s {
			t.Errorf("Parse(%q) = %v, %v", s, d, err)
		}
	}
	bad := []string{"", "sha256", "sha256:" + strings.Repeat("A", 64), "md5:" + strings.Repeat("a", 32),
		"sha256:" + strings.Repeat("a", 63), "sha256:" + strings.Repeat("a", 64) + "\n"}
	for _, s := range bad {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("a", 64))
	f.Add("sha512:zz")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err == nil && (d.String() != s || !Valid(s)) {
			t.Fatalf("%q: round trip", s)
		}
	})
}
