package nvd_test

import (
	"strings"
	"testing"

	"github.com/openclair/clair/feed"
	_ "github.com/openclair/clair/feed/epss"
	_ "github.com/openclair/clair/feed/kev"
)

// TestClairSets: Clair v4's enricher set names select the enrichment
// feeds, so a Clair config's updaters.sets keeps working.
func TestClairSets(t *testing.T) {
	got, warnings, err := feed.Select([]string{"clair.cvss", "clair.epss", "clair.kev", "cvelist"})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("Select: %v %v", err, warnings)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Name())
	}
	if want := "cvelist epss kev nvd"; strings.Join(names, " ") != want {
		t.Errorf("selected %v, want %s", names, want)
	}
}
