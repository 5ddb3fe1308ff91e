package webhook

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClip: whatever a receiver answers, the part quoted in an error is one
// short line of valid UTF-8 without control characters.
func FuzzClip(f *testing.F) {
	f.Add([]byte("boom: database gone\n"))
	f.Add([]byte("<html>\r\n<body>\x1b[31m500\x00</body></html>"))
	f.Add([]byte(strings.Repeat("é", 300)))
	f.Add([]byte{0xff, 0xfe, 'a', '\t', 'b'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := clip(b)
		if len(s) > 200+len("…") || !utf8.ValidString(s) {
			t.Fatalf("clip %q: %d bytes", s, len(s))
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character %q in %q", r, s)
			}
		}
	})
}
