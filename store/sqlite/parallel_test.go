package sqlite_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/openclair/clair/internal/bigreport"
	"github.com/openclair/clair/vuln"
)

// TestSplitQueriesSame checks that advisories and details read in parallel
// runs (many names) are those read a few names at a time (no split), on the
// full Debian feed and the 700-package image's source names.
func TestSplitQueriesSame(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full Debian feed")
	}
	ctx := context.Background()
	st := bigreport.Store(t, t.TempDir())
	defer st.Close()
	ir := bigreport.IndexReport(t)
	ns := vuln.Namespace(ir.Distributions["1"])
	var names []string
	for _, p := range ir.Packages {
		names = append(names, p.SourceName())
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 256 {
		t.Fatalf("only %d source names: the split is not exercised", len(names))
	}
	key := func(a *vuln.Advisory) string {
		return fmt.Sprintf("%s|%s|%s|%s|%s|%q|%q|%q|%q", a.Feed, a.Package, a.Name, a.FixedIn, a.State, a.Ranges, a.Versions, a.Description, a.Aliases)
	}
	keys := func(as []*vuln.Advisory) []string {
		var ks []string
		for _, a := range as {
			ks = append(ks, key(a))
		}
		slices.Sort(ks)
		return ks
	}
	all, err := st.Advisories(ctx, ns, names)
	if err != nil {
		t.Fatal(err)
	}
	var few []*vuln.Advisory
	for i := 0; i < len(names); i += 50 {
		as, err := st.Advisories(ctx, ns, names[i:min(i+50, len(names))])
		if err != nil {
			t.Fatal(err)
		}
		few = append(few, as...)
	}
	if len(all) < 5000 || !slices.Equal(keys(all), keys(few)) {
		t.Fatalf("advisories: %d in one call, %d fifty names at a time: not the same", len(all), len(few))
	}
	if err := st.Details(ctx, all); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(few); i += 500 {
		if err := st.Details(ctx, few[i:min(i+500, len(few))]); err != nil {
			t.Fatal(err)
		}
	}
	described := 0
	for _, a := range all {
		if a.Description != "" {
			described++
		}
	}
	if described < len(all)/2 || !slices.Equal(keys(all), keys(few)) {
		t.Errorf("details: %d of %d described; split and unsplit differ: %v", described, len(all), !slices.Equal(keys(all), keys(few)))
	}
}
