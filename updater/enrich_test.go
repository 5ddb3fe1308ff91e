package updater

import (
	"bytes"
	"context"
	"errors"
	"os"
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
// shrink guard keeps their stored records from a file cut at a line
// boundary, which parses: EPSS's real CSV, and its first rows only.
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
	if len(res) != 2 || res[0].Advisories != 29 || res[1].Advisories != 2 {
		t.Fatalf("import: %+v", res)
	}
	recs, err := st.Enrichments(ctx, []string{"CVE-2021-44228", "CVE-1999-0005"})
	if err != nil || len(recs) != 2 {
		t.Fatalf("records after import: %v %v", recs, err)
	}

	// EPSS's first three rows: a well-formed file that would drop 26 of 29.
	plain, err := os.ReadFile(sharedtest.Path(t, "feeds/epss/claircore-sample-epss.csv"))
	if err != nil {
		t.Fatal(err)
	}
	head := bytes.Join(bytes.SplitAfter(plain, []byte("\n"))[:5], nil)
	p := filepath.Join(t.TempDir(), "epss.csv")
	if err := os.WriteFile(p, head, 0o644); err != nil {
		t.Fatal(err)
	}
	u.URLs = map[string]string{"epss": p}
	res, _ = u.Run(ctx, []feed.Feed{epss.New()})
	var se *ShrinkError
	if !errors.As(res[0].Err, &se) || se.Stored != 29 || se.Parsed != 3 {
		t.Fatalf("cut file: %+v", res[0])
	}
	if st, _ := st.FeedState(ctx, "epss"); st.Advisories != 29 {
		t.Errorf("stored EPSS records: %d, want 29", st.Advisories)
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
