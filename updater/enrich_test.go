package updater

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/epss"
	"github.com/openclair/clair/feed/kev"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store/sqlite"
)

// TestEnrichmentBundleAndGuard: enrichment feeds travel in offline bundles
// (their records stored on import, not an empty advisory snapshot), and the
// shrink guard keeps their stored records from a well-formed file that
// lost most of them.
func TestEnrichmentBundleAndGuard(t *testing.T) {
	ctx := context.Background()
	root := "../testdata/feeds/enrich/"
	urls := map[string]string{
		"kev":  mustAbs(t, root+"kev/known_exploited_vulnerabilities.json"),
		"epss": mustAbs(t, root+"epss/epss_scores-current.csv.gz"),
	}
	var buf bytes.Buffer
	if _, err := (&Updater{URLs: urls, TempDir: t.TempDir()}).ExportBundle(ctx, &buf, []feed.Feed{epss.New(), kev.New()}); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "clair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := &Updater{Store: st, TempDir: t.TempDir()}
	res, err := u.ImportBundle(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Advisories != 29 || res[1].Advisories != 5 {
		t.Fatalf("import: %+v", res)
	}
	recs, err := st.Enrichments(ctx, []string{"CVE-2021-44228", "CVE-1999-0005"})
	if err != nil || len(recs) != 2 {
		t.Fatalf("records after import: %v %v", recs, err)
	}

	// CISA's whole catalog (1,404 entries), then the five-entry excerpt: a
	// well-formed catalog that would drop 1,399 of them.
	u.URLs = map[string]string{"kev": sharedtest.Path(t, "feeds/kev/known_exploited_vulnerabilities.json")}
	if res, err := u.Run(ctx, []feed.Feed{kev.New()}); err != nil || res[0].Advisories != 1404 {
		t.Fatalf("full catalog: %+v %v", res, err)
	}
	u.URLs = urls
	res, _ = u.Run(ctx, []feed.Feed{kev.New()})
	var se *ShrinkError
	if !errors.As(res[0].Err, &se) || se.Stored != 1404 || se.Parsed != 5 {
		t.Fatalf("excerpt over the full catalog: %+v", res[0])
	}
	if st, _ := st.FeedState(ctx, "kev"); st.Advisories != 1404 {
		t.Errorf("stored KEV records: %d, want 1404", st.Advisories)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
