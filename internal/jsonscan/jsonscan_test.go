package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzScan: Scan accepts exactly what json.Valid accepts, calls compact
// exactly what json.Compact leaves as it is, and Skip ends a value where
// Scan does.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`{"a":[1,-0.5e+3,"\u00e9\n",true,false,null,{}]}`, `[ 1 , 2 ]`, `"\ud800"`, `"\x"`, `01`, `1.`, `-`,
		`[1,]`, `{"a" 1}`, "\"\x1f\"", `[[[[[[]]]]]]`, ` {} `, "{\"a\":\"\xff\"}", `{"cve":"CVE-1","cvss":[{"score":1.5E+2}]}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid, compact := Scan(b)
		if want := json.Valid(b); valid != want {
			t.Fatalf("%q: Scan valid %v, json.Valid %v", b, valid, want)
		}
		if !valid {
			return
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			t.Fatal(err)
		}
		if want := bytes.Equal(c.Bytes(), b); compact != want {
			t.Fatalf("%q: Scan compact %v, json.Compact leaves it %v", b, compact, want)
		}
		if i := bytes.IndexFunc(b, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i >= 0 {
			end, ok := Skip(b, i)
			if !ok || len(bytes.TrimRight(b[end:], " \t\r\n")) != 0 {
				t.Fatalf("%q: Skip from %d: end %d, ok %v", b, i, end, ok)
			}
		}
	})
}

// TestDepth: json.Valid's nesting limit holds.
func TestDepth(t *testing.T) {
	for _, n := range []int{MaxDepth, MaxDepth + 1} {
		b := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		valid, _ := Scan(b)
		if want := json.Valid(b); valid != want {
			t.Errorf("depth %d: Scan %v, json.Valid %v", n, valid, want)
		}
	}
}

// FuzzPlainString: where PlainString reads a string, json.Unmarshal reads
// the same one, and ends it at the same byte.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"é"`, "\"\xff\"", "\"a\tb\"", `"x" rest`, `"`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, end, ok := PlainString(b, 0)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(b[:end], &want); err != nil || want != string(s) {
			t.Fatalf("%q: PlainString %q, json.Unmarshal %q (%v)", b, s, want, err)
		}
	})
}
