package snapshot

import (
	"reflect"
	"testing"
	"time"

	"github.com/openclair/clair/vuln"
)

func TestRoundTripAndCorrupt(t *testing.T) {
	a := &vuln.Advisory{Feed: "f", Name: "CVE-1", Namespace: "ns\x00", Package: "p", State: vuln.StateAffected,
		Ranges: []vuln.Range{{Introduced: "1", Fixed: "2", LastAffected: "3"}}, Versions: []string{"1", ""},
		Arches: []string{"x86_64"}, Module: "m:1", Repositories: []string{"r"}, NormalizedSeverity: -3,
		Description: "d", Links: []string{"l"}, Issued: time.Date(1, 2, 3, 4, 5, 6, 7, time.UTC), Aliases: []string{"A"}}
	w := NewWriter()
	w.Add(a)
	blob, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	added, removed, err := Diff("f", nil, blob)
	if err != nil || len(removed) != 0 || len(added) != 1 {
		t.Fatalf("Diff = %v, %v, %v", added, removed, err)
	}
	if !reflect.DeepEqual(added[0], a) {
		t.Fatalf("round trip:\ngot  %+v\nwant %+v", added[0], a)
	}

	empty, err := NewWriter().Finish()
	if err != nil {
		t.Fatal(err)
	}
	if added, removed, err := Diff("f", blob, empty); err != nil || len(added) != 0 || len(removed) != 1 {
		t.Fatalf("Diff to empty = %v, %v, %v", added, removed, err)
	}
	// (The size prefix is a hint: a wrong one is not an error.)
	for _, bad := range [][]byte{{}, {0xff}, blob[:len(blob)/2], append(blob[:len(blob):len(blob)], 0)} {
		if _, _, err := Diff("f", nil, bad); err == nil {
			t.Errorf("Diff of a corrupt blob %x succeeded", bad)
		}
	}
	if _, _, err := Diff("f", []byte{1}, blob); err == nil {
		t.Errorf("Diff from a corrupt blob: %v", err)
	}
}
