package reportjson

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/vuln"
)

// stdJSON is what the API served before this package: encoding/json.
func stdJSON(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bigreport.EncodeStd(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// firstDiff shows where got and want part.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("at byte %d of %d: got %.200q, want %.200q", i, len(want), got[from:], want[from:])
}

func encode(t testing.TB, vr *vuln.VulnerabilityReport) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, vr); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fill sets every field of v, recursively, to a value that is not zero
// and whose strings need escaping, so that a field this package forgets
// (one added to vuln's types later) shows as a difference.
func fill(v reflect.Value, name string, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(name + " \"q\" <&> \\ \n\t\x01 \u2028 é \xff")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(int64(len(name) % 6))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2024, 2, 29, 13, 4, 5, 6000, time.FixedZone("x", 3600))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), name+"."+v.Type().Field(i).Name, depth)
		}
	case reflect.Pointer:
		if depth > 2 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), name, depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), name+"[]", depth)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"b", "a<", "10", "9"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, name+"["+k+"]", depth)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"z": []any{1.5, "<&>", nil}, "a": true}))
	default:
		panic("reportjson test: fill: unhandled kind " + v.Kind().String() + " at " + name)
	}
}

func TestEveryField(t *testing.T) {
	var vr vuln.VulnerabilityReport
	fill(reflect.ValueOf(&vr).Elem(), "r", 0)
	want := stdJSON(t, &vr)
	if got := encode(t, &vr); !bytes.Equal(got, want) {
		t.Errorf("differs from encoding/json (a field of vuln's types this package does not write?): %s", firstDiff(got, want))
	}
}

func TestEmptyAndNil(t *testing.T) {
	cases := map[string]*vuln.VulnerabilityReport{
		"nil":   nil,
		"zero":  {},
		"empty": {Packages: map[string]*vuln.Package{}, PackageVulnerabilities: map[string][]string{}, Enrichments: map[string][]any{}},
		"nil values": {
			Packages:               map[string]*vuln.Package{"1": nil, "2": {}},
			Distributions:          map[string]*vuln.Distribution{"1": nil, "2": {}},
			Repositories:           map[string]*vuln.Repository{"1": nil, "2": {}},
			Environments:           map[string][]*vuln.Environment{"1": nil, "2": {nil, {}}, "3": {}},
			Vulnerabilities:        map[string]*vuln.Vulnerability{"1": nil, "2": {}, "3": {Aliases: []string{}}},
			PackageVulnerabilities: map[string][]string{"1": nil, "2": {}},
			Enrichments:            map[string][]any{"1": nil, "2": {}, "3": {nil}},
		},
	}
	for name, vr := range cases {
		want := stdJSON(t, vr)
		if got := encode(t, vr); !bytes.Equal(got, want) {
			t.Errorf("%s: differs from encoding/json:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestIssuedOutOfRange(t *testing.T) {
	vr := &vuln.VulnerabilityReport{Vulnerabilities: map[string]*vuln.Vulnerability{"1": {ID: "1", Issued: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	if err := Encode(&bytes.Buffer{}, vr); err == nil || !strings.Contains(err.Error(), "issued") {
		t.Errorf("year 10000: err %v, want one naming issued (encoding/json fails too)", err)
	}
}

// bigReport matches the load test's 700-package image against the full
// Debian tracker feed.
// bigReport is the 700-package image's report, with what a deployment's
// enrichment feeds add (bigreport.Enrich) when enriched.
func bigReport(tb testing.TB, enriched bool) *vuln.VulnerabilityReport {
	tb.Helper()
	st := bigreport.Store(tb, tb.TempDir())
	tb.Cleanup(func() { st.Close() })
	if enriched {
		bigreport.Enrich(tb, st)
	}
	vr, err := (&match.Matcher{Store: st}).Match(context.Background(), bigreport.IndexReport(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return vr
}

// TestMatchesEncodingJSON compares the real 700-package report, plain and
// enriched (CVSS, EPSS and KEV records as the matcher attaches them),
// byte for byte and decoded.
func TestMatchesEncodingJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full Debian feed")
	}
	for _, enriched := range []bool{false, true} {
		vr := bigReport(t, enriched)
		if len(vr.Vulnerabilities) < 5000 || enriched != (len(vr.Enrichments) == 3) {
			t.Fatalf("%d vulnerabilities, %d enrichment kinds (enriched %v): not the large report", len(vr.Vulnerabilities), len(vr.Enrichments), enriched)
		}
		want := stdJSON(t, vr)
		got := encode(t, vr)
		if !bytes.Equal(got, want) {
			t.Errorf("enriched %v: differs from encoding/json: %s", enriched, firstDiff(got, want))
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("enriched %v: decoded reports differ", enriched)
		}
	}
}

// errWriter fails after n bytes.
type errWriter struct{ n int }

func (w *errWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errBroken
	}
	return len(p), nil
}

var errBroken = &json.UnsupportedValueError{Str: "broken pipe"}

func TestWriteError(t *testing.T) {
	var vr vuln.VulnerabilityReport
	fill(reflect.ValueOf(&vr).Elem(), "r", 0)
	if err := Encode(&errWriter{n: 10}, &vr); err == nil {
		t.Error("a failing writer: no error")
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\b\f\n\r\t\x00\x1f\x7f", "<&>", "\u2028\u2029", "é\xff\xfe", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := stdJSON(t, s)
		got := append(appendString(nil, s), '\n')
		if !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

// BenchmarkEncode compares encoding/json and this package on the real
// 700-package report, plain and enriched, beside a floor: copying the same
// bytes.
func BenchmarkEncode(b *testing.B) {
	for _, enriched := range []bool{false, true} {
		name := "plain"
		if enriched {
			name = "enriched"
		}
		vr := bigReport(b, enriched)
		js := stdJSON(b, vr)
		bigreport.BenchCopy(b, name+"/floor-copy", js)
		var out bytes.Buffer
		bigreport.Bench(b, name+"/encoding-json", len(js), func() error {
			out.Reset()
			return bigreport.EncodeStd(&out, vr)
		})
		bigreport.Bench(b, name+"/reportjson", len(js), func() error {
			out.Reset()
			return Encode(&out, vr)
		})
	}
}

// TestRawLists: the CVSS enrichment's shape, written here, is what
// encoding/json writes, in its corner cases: a nil list, a nil message, a
// message with white space or escapes, keys that need escaping; and a
// message that is not JSON fails as it does there.
func TestRawLists(t *testing.T) {
	key := vuln.CVSSEnrichment
	m := map[string][]json.RawMessage{
		"b":           {json.RawMessage(`{"baseScore":9.8,"vectorString":"CVSS:3.1/AV:N"}`), nil},
		"a<\"é\u2028": {json.RawMessage(" { \"x\" : [ 1 , \"<&>\\u00e9 \" ] }\n"), json.RawMessage(`[]`)},
		"c":           nil,
		"d":           {},
	}
	for _, v := range []any{m, map[string][]json.RawMessage{}, map[string][]json.RawMessage(nil)} {
		vr := &vuln.VulnerabilityReport{Enrichments: map[string][]any{key: {v}}}
		if got, want := encode(t, vr), stdJSON(t, vr); !bytes.Equal(got, want) {
			t.Errorf("%v:\n got %s\nwant %s", v, got, want)
		}
	}
	for _, bad := range []string{``, `{"a":`, `{"a":1}x`, `nul`} {
		vr := &vuln.VulnerabilityReport{Enrichments: map[string][]any{key: {map[string][]json.RawMessage{"a": {json.RawMessage(bad)}}}}}
		_, stdErr := json.Marshal(vr)
		if err := Encode(io.Discard, vr); (err == nil) != (stdErr == nil) || err == nil {
			t.Errorf("%q: error %v, encoding/json's %v", bad, err, stdErr)
		}
	}
}
