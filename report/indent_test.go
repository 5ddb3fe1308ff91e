package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// indentAll runs b through an indenter in writes of at most chunk bytes.
func indentAll(t testing.TB, b []byte, chunk int) []byte {
	var out bytes.Buffer
	ind := newIndenter(&out)
	for len(b) > 0 {
		n := min(chunk, len(b))
		if _, err := ind.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if err := ind.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// checkIndent compares the indenter with json.Indent on compact JSON b,
// written whole and in pieces.
func checkIndent(t testing.TB, b []byte) {
	var want bytes.Buffer
	if err := json.Indent(&want, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{len(b) + 1, 1, 3, 4096} {
		if got := indentAll(t, b, chunk); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("chunks of %d: indenter wrote\n%s\njson.Indent wrote\n%s", chunk, got, want.Bytes())
		}
	}
}

// TestIndenter: the indenter writes what json.Indent writes, on the
// repository's golden reports (compacted, newline kept) and on edge cases.
func TestIndenter(t *testing.T) {
	golden, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.json"))
	if err != nil || len(golden) == 0 {
		t.Fatalf("no golden reports: %v", err)
	}
	for _, f := range golden {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			t.Fatal(err)
		}
		c.WriteByte('\n')
		checkIndent(t, c.Bytes())
	}
	for _, s := range []string{`{}`, `[]`, `{"a":{},"b":[],"c":[{}]}`, `"x\\\"y"`, `{"a\\":"b\"}\\"}`, `[1,"{[,:]}",true,null]` + "\n", `{"k":"\u00e9\n"}`} {
		checkIndent(t, []byte(s))
	}
}

// FuzzIndenter: on any JSON, compacted, the indenter writes what
// json.Indent writes.
func FuzzIndenter(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c\"\\"}],"d":{}}`))
	f.Add([]byte(`[[],[[]],{"":""}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c bytes.Buffer
		if json.Compact(&c, b) != nil {
			return
		}
		checkIndent(t, c.Bytes())
	})
}
