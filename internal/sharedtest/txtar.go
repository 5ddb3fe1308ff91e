package sharedtest

import (
	"bytes"
	"strings"
)

// Txtar splits the simple archives (txtar, as golang.org/x/tools/txtar
// writes them) that claircore and trivy keep fixtures in: each "-- name --"
// line starts a file, and what comes before the first is the comment,
// dropped.
func Txtar(b []byte) map[string][]byte {
	out := map[string][]byte{}
	var name string
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		s := strings.TrimRight(string(line), "\n")
		if strings.HasPrefix(s, "-- ") && strings.HasSuffix(s, " --") && len(s) > 6 {
			name = s[3 : len(s)-3]
			out[name] = []byte{}
			continue
		}
		if name != "" {
			out[name] = append(out[name], line...)
		}
	}
	return out
}
