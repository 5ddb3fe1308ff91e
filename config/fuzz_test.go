package config

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse: any bytes give a config or an error, never a panic.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/clair-v4.yaml"); err == nil {
		f.Add(string(b))
	}
	f.Add("indexer: {connstring: x}\nmatcher: {period: 6h}\n")
	f.Add("auth:\n  psk:\n    key: a2V5\n    iss: [a, b]\n")
	f.Add("updaters:\n  config:\n    debian:\n      url: file:///x\n      extra: [1, {a: b}]\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(strings.NewReader(in))
		if err == nil && (c.HTTPListenAddr == "" || c.Matcher.Period <= 0) {
			t.Fatalf("accepted config without defaults: %+v", c)
		}
	})
}
