package sqlite

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/store/internal/feedwrite"
	"github.com/openclair/clair/vuln"
)

func TestStringsCodec(t *testing.T) {
	for _, l := range [][]string{
		nil,
		{""},
		{"", ""},
		{"https://a.example/?x=1&y=<2>"},
		{`quote"d`, `back\slash`, "tab\t", "line\u2028sep", "ü日本"},
		{"a", "b", "c,d", `","`},
		{"[", "]", `"`},
	} {
		enc, err := encodeStrings(l)
		if err != nil {
			t.Fatalf("encodeStrings(%q): %v", l, err)
		}
		got, err := decodeStrings(enc)
		if err != nil {
			t.Fatalf("decodeStrings(%q): %v", enc, err)
		}
		if !slices.Equal(got, l) || (len(l) == 0) != (got == nil) {
			t.Errorf("round trip of %q through %q = %q", l, enc, got)
		}
	}
	if _, ok := decodePlainStrings(`["a","b"]`); !ok {
		t.Error("plain list missed the fast path")
	}
	if _, ok := decodePlainStrings(`["a&b"]`); !ok {
		t.Error("'&' missed the fast path")
	}
	for _, bad := range []string{`["a"`, `["a",]`, `["a" ,"b"]`, `["a"]]`, `[1]`, `{}`} {
		if l, ok := decodePlainStrings(bad); ok {
			t.Errorf("decodePlainStrings(%q) = %q, want no fast path", bad, l)
		}
	}
}

// FuzzStringsCodec: whatever the strings, they come back.
func FuzzStringsCodec(f *testing.F) {
	f.Add("a", "b", "c")
	f.Add(`"`, `\`, "")
	f.Add("\u2028", "&<>", `","`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		l := []string{a, b, c}
		enc, err := encodeStrings(l)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeStrings(enc)
		if err != nil {
			t.Fatalf("decodeStrings(%q): %v", enc, err)
		}
		// encoding/json replaces invalid UTF-8; compare with what it reads.
		var want []string
		if err := json.Unmarshal([]byte(enc), &want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("decode(%q) = %q, want %q", enc, got, want)
		}
	})
}

// FuzzAdvisoryCodec: an advisory record, split as the matcher's query
// returns it, decodes to the advisory.
func FuzzAdvisoryCodec(f *testing.F) {
	f.Add("CVE-1", "affected", "dpkg", "1.0-1", "high", 4, "pkg", "", "1.0-1", "", "", false)
	f.Add("", "", "", "", "", 0, "", "", "", "", "", true)
	f.Add("n", "unfixed", "", "", "", 0, "p", "0", "", "2", "v", true)
	f.Fuzz(func(t *testing.T, name, state, vf, fixedIn, sev string, nsev int, pkg, intro, fixed, last, version string, useVersion bool) {
		a := &vuln.Advisory{Feed: "f", Namespace: "ns", Package: pkg, Name: name, State: vuln.State(state),
			VersionFormat: vf, FixedIn: fixedIn, Severity: sev, NormalizedSeverity: vuln.Severity(nsev)}
		if intro != "" || fixed != "" || last != "" {
			a.Ranges = []vuln.Range{{Introduced: intro, Fixed: fixed, LastAffected: last}}
		}
		if useVersion {
			a.Versions = []string{version}
		}
		if feedwrite.CheckNUL(a) != nil {
			return
		}
		rec, err := encodeAdvisory(a)
		if err != nil {
			t.Fatal(err)
		}
		// Twice, as group_concat joins records.
		all := strings.Join([]string{pkg + sep + rec, pkg + sep + rec}, sep)
		dec := advisoryDecoder{feed: "f", namespace: "ns"}
		var got []*vuln.Advisory
		if err := splitRecords(all, advisoryFields, func(fs []string) error {
			d, err := dec.decode(fs)
			got = append(got, d)
			return err
		}); err != nil {
			t.Fatalf("decode %q: %v", all, err)
		}
		want := *a
		if want.Versions != nil {
			// JSON keeps what encoding/json keeps of invalid UTF-8.
			b, _ := json.Marshal(want.Versions)
			json.Unmarshal(b, &want.Versions)
		}
		if len(want.Ranges) > 0 && (len(want.Versions) > 0 || want.Ranges[0] != (vuln.Range{Fixed: want.FixedIn})) {
			var r []vuln.Range
			b, _ := json.Marshal(want.Ranges)
			json.Unmarshal(b, &r)
			want.Ranges = r
		}
		if len(got) != 2 || !reflect.DeepEqual(*got[0], want) || !reflect.DeepEqual(*got[1], want) {
			t.Fatalf("round trip of %+v gave %+v", want, got)
		}
	})
}

func TestSplitRecordsTruncated(t *testing.T) {
	err := splitRecords("a"+sep+"b"+sep+"c", 2, func([]string) error { return nil })
	if err == nil {
		t.Fatal("3 fields split into records of 2 without error")
	}
}
