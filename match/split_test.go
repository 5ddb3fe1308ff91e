package match_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/match"
)

// TestMatchSplit: the 700-package image (several hundred source names)
// matched in concurrent runs, split two and four ways, gives the report
// matched in one run, byte for byte, on the full Debian feed, without and
// with enrichment records (thousands of CVEs, read in runs too).
func TestMatchSplit(t *testing.T) {
	ctx := t.Context()
	st := bigreport.Store(t, t.TempDir())
	defer st.Close()
	ir := bigreport.IndexReport(t)
	report := func(runs int) string {
		m := &match.Matcher{Store: st}
		match.SetRuns(m, runs)
		vr, err := m.Match(ctx, ir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(vr)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, enriched := range []bool{false, true} {
		if enriched {
			// Enrichments are read in runs of CVEs too.
			bigreport.Enrich(t, st)
		}
		whole := report(1)
		if len(whole) < 5<<20 || enriched != strings.Contains(whole, `"baseScore"`) {
			t.Fatalf("the whole report (enriched %v) is %d bytes: not the large image", enriched, len(whole))
		}
		for _, runs := range []int{2, 4} {
			if got := report(runs); got != whole {
				t.Errorf("enriched %v, split %d ways: a report of %d bytes, want the whole match's %d", enriched, runs, len(got), len(whole))
			}
		}
	}
}
