package report

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeCVSS: where the one-pass scanner reads an enrichment, it reads
// what encoding/json reads.
func FuzzDecodeCVSS(f *testing.F) {
	f.Add([]byte(`{"a":[{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","attackVector":"NETWORK","baseScore":9.8,"baseSeverity":"CRITICAL"}],"b":[]}`))
	f.Add([]byte(`{ "x" : [ { "baseScore" : 5 , "Version" : "3.0" } ] }`))
	f.Add([]byte(`{"x":[{"baseScore":"5"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		got, ok := scanCVSSMap(b)
		if !ok {
			return
		}
		var want map[string][]CVSS
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("scanner read %q, encoding/json fails: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%q:\nscanner  %+v\njson     %+v", b, got, want)
		}
	})
}

func TestDecodeCVSS(t *testing.T) {
	out := map[string]CVSS{}
	decodeCVSS([]byte(`{"v1":[{"version":"3.0","baseScore":6.5,"vectorString":"CVSS:3.0/AV:L","baseSeverity":"MEDIUM"},{"version":"3.1","baseScore":7.8}],"v2":[{"baseScore":11}],"v3":[{"nested":{"x":1},"baseScore":4.0}]}`), out)
	if out["v1"].BaseScore != 7.8 || out["v1"].Version != "3.1" {
		t.Errorf("v1: %+v, want the higher score", out["v1"])
	}
	if _, ok := out["v2"]; ok {
		t.Error("a score past 10 kept")
	}
	if out["v3"].BaseScore != 4.0 { // through the encoding/json fallback
		t.Errorf("v3: %+v", out["v3"])
	}
	decodeCVSS([]byte(`{"v9":`), out)
	if _, ok := out["v9"]; ok {
		t.Error("read broken JSON")
	}
}

// FuzzDecodeCVSSObject: the scanner reads a lone CVSS object (a report
// made in this process holds them so) without json.Valid before it; where
// it reads one, encoding/json reads the same, and where it gives up, the
// result is encoding/json's.
func FuzzDecodeCVSSObject(f *testing.F) {
	f.Add([]byte(`{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","attackVector":"NETWORK","baseScore":9.8,"baseSeverity":"CRITICAL"}`))
	f.Add([]byte(`{"baseScore":5,"foo":bar}`))
	f.Add([]byte(`{"baseScore":-0.5e+1,"x":true,"y":null}`))
	f.Add([]byte("{\"version\":\"3.1\x01\"}"))
	f.Add([]byte(`{"baseScore":01}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodeCVSSObject(b)
		var want CVSS
		err := json.Unmarshal(b, &want)
		if ok != (err == nil) {
			t.Fatalf("%q: scanner ok %v, encoding/json %v", b, ok, err)
		}
		if ok && got != want {
			t.Fatalf("%q:\nscanner  %+v\njson     %+v", b, got, want)
		}
	})
}
