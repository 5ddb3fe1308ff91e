package match_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/openclair/clair/internal/reporttest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// detailsOnly hides the store's BriefDetails: the matcher then reads the
// whole details and drops what a brief report leaves out.
type detailsOnly struct{ match.Store }

// TestBrief: a brief report is the full report without descriptions and
// links, through a store that reads brief details (SQLite) and one that
// cannot.
func TestBrief(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ir, full, err := reporttest.DebianNginx(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	described := 0
	for _, v := range full.Vulnerabilities {
		if v.Description != "" && v.Links != "" {
			described++
		}
	}
	if described == 0 {
		t.Fatal("the full report has no descriptions to leave out")
	}
	want := *full
	want.Vulnerabilities = map[string]*vuln.Vulnerability{}
	for id, v := range full.Vulnerabilities {
		cp := *v
		cp.Description, cp.Links = "", ""
		want.Vulnerabilities[id] = &cp
	}
	for name, s := range map[string]match.Store{"sqlite": st, "details only": detailsOnly{st}} {
		got, err := (&match.Matcher{Store: s, Brief: true}).Match(ctx, ir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s: the brief report is not the full report without descriptions and links", name)
		}
	}
}
