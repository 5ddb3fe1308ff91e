package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

func emitAll(recs ...*vuln.Enrichment) func(emit func(*vuln.Enrichment) error) error {
	return func(emit func(*vuln.Enrichment) error) error {
		for _, r := range recs {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func byFeed(t *testing.T, s store.EnrichmentStore, cves ...string) map[string]*vuln.Enrichment {
	t.Helper()
	got, err := s.Enrichments(t.Context(), cves)
	if err != nil {
		t.Fatalf("Enrichments(%v): %v", cves, err)
	}
	m := map[string]*vuln.Enrichment{}
	for _, e := range got {
		k := e.Feed + " " + e.CVE
		if _, dup := m[k]; dup {
			t.Fatalf("Enrichments returned %s twice", k)
		}
		m[k] = e
	}
	return m
}

// hasEnrichments says what the store's HasEnrichments (the matcher's
// probe) says, and want when the store has none.
func hasEnrichments(t *testing.T, s store.Store, want bool) bool {
	t.Helper()
	p, ok := s.(interface {
		HasEnrichments(context.Context) (bool, error)
	})
	if !ok {
		return want
	}
	has, err := p.HasEnrichments(t.Context())
	if err != nil {
		t.Fatalf("HasEnrichments: %v", err)
	}
	return has
}

func testEnrichReplaceAndQuery(t *testing.T, s store.Store) {
	ctx := t.Context()
	if hasEnrichments(t, s, false) {
		t.Error("HasEnrichments of an empty store: true")
	}
	nvd := &vuln.Enrichment{CVE: "CVE-2021-44228", CVSS: []vuln.CVSS{{Source: vuln.CVSSSourceNVD, Version: "3.1",
		Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10, Severity: "CRITICAL",
		Data: []byte(`{"version":"3.1","baseScore":10.0}`)}}}
	if _, err := s.ReplaceEnrichments(ctx, "nvd", "fp1", emitAll(nvd,
		&vuln.Enrichment{CVE: "cve-2014-0160"})); err != nil {
		t.Fatal(err)
	}
	op, err := s.ReplaceEnrichments(ctx, "kev", "k1", emitAll(&vuln.Enrichment{CVE: "CVE-2021-44228",
		KEV: &vuln.KEV{CVE: "CVE-2021-44228", DateAdded: "2021-12-10", DueDate: "2021-12-24", KnownRansomwareCampaignUse: "Known"}}))
	if err != nil {
		t.Fatal(err)
	}
	if op.Advisories != 1 || op.Feed != "kev" || op.Fingerprint != "k1" {
		t.Errorf("operation %+v", op)
	}
	st, err := s.FeedState(ctx, "kev")
	if err != nil || st.Fingerprint != "k1" || st.Operation != op.ID || st.Advisories != 1 {
		t.Errorf("FeedState(kev) = %+v, %v", st, err)
	}
	if err := s.TouchFeed(ctx, "kev"); err != nil {
		t.Errorf("TouchFeed(kev): %v", err)
	}
	if !hasEnrichments(t, s, true) {
		t.Error("HasEnrichments with records: false")
	}
	m := byFeed(t, s, "cve-2021-44228", "CVE-2014-0160", "CVE-1999-0001")
	if len(m) != 3 {
		t.Fatalf("got %d records, want 3: %v", len(m), m)
	}
	got := m["nvd CVE-2021-44228"]
	if got == nil || len(got.CVSS) != 1 || got.CVSS[0].Score != 10 || got.CVSS[0].Severity != "CRITICAL" ||
		string(got.CVSS[0].Data) != `{"version":"3.1","baseScore":10.0}` {
		t.Errorf("nvd record %+v", got)
	}
	if k := m["kev CVE-2021-44228"]; k == nil || k.KEV == nil || k.KEV.DueDate != "2021-12-24" {
		t.Errorf("kev record %+v", k)
	}
	if _, ok := m["nvd CVE-2014-0160"]; !ok {
		t.Errorf("lower-case CVE id not stored upper case: %v", m)
	}

	// A new snapshot replaces the feed's records, and only that feed's.
	first, err := s.FeedState(ctx, "nvd")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.ReplaceEnrichments(ctx, "nvd", "fp2", emitAll(&vuln.Enrichment{CVE: "CVE-2022-0001"}))
	if err != nil {
		t.Fatal(err)
	}
	// Its operations are in the history, with empty advisory diffs: the
	// notifier finds nothing to announce in an enrichment feed.
	if d, err := s.UpdateDiff(ctx, first.Operation, second.ID); err != nil || len(d.Added)+len(d.Removed) != 0 {
		t.Errorf("UpdateDiff of two enrichment snapshots: %+v, %v", d, err)
	}
	if ops, err := s.UpdateOperations(ctx, "nvd"); err != nil || len(ops["nvd"]) != 2 || ops["nvd"][0].ID != second.ID {
		t.Errorf("UpdateOperations(nvd) = %+v, %v", ops, err)
	}
	m = byFeed(t, s, "CVE-2021-44228", "CVE-2014-0160", "CVE-2022-0001")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"kev CVE-2021-44228", "nvd CVE-2022-0001"}; !slices.Equal(keys, want) {
		t.Errorf("after replace: %v, want %v", keys, want)
	}
	if got, err := s.Enrichments(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("Enrichments(nil) = %v, %v", got, err)
	}
}

func testEnrichLoadErrorKeepsPrevious(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.ReplaceEnrichments(ctx, "epss", "a", emitAll(&vuln.Enrichment{CVE: "CVE-2020-0001",
		EPSS: &vuln.EPSS{CVE: "CVE-2020-0001", EPSS: 0.5, Percentile: 0.9}})); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("truncated")
	_, err := s.ReplaceEnrichments(ctx, "epss", "b", func(emit func(*vuln.Enrichment) error) error {
		if err := emit(&vuln.Enrichment{CVE: "CVE-2020-0002"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	m := byFeed(t, s, "CVE-2020-0001", "CVE-2020-0002")
	if len(m) != 1 || m["epss CVE-2020-0001"] == nil || m["epss CVE-2020-0001"].EPSS.Percentile != 0.9 {
		t.Errorf("after a failed load: %v", m)
	}
	if st, err := s.FeedState(ctx, "epss"); err != nil || st.Fingerprint != "a" {
		t.Errorf("FeedState after a failed load = %+v, %v", st, err)
	}
}

func testEnrichBadRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	for name, recs := range map[string][]*vuln.Enrichment{
		"not a CVE":    {{CVE: "GHSA-xxxx-yyyy-zzzz"}},
		"foreign feed": {{CVE: "CVE-2020-0001", Feed: "kev"}},
		"twice":        {{CVE: "CVE-2020-0001"}, {CVE: "cve-2020-0001"}},
		"nil":          {nil},
	} {
		_, err := s.ReplaceEnrichments(ctx, "nvd", "x", emitAll(recs...))
		if err == nil || !strings.Contains(err.Error(), "nvd") {
			t.Errorf("%s: err = %v, want an error naming the feed", name, err)
		}
	}
	if _, err := s.FeedState(ctx, "nvd"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FeedState after only failed replaces: %v, want ErrNotFound", err)
	}
}

// testEnrichIncrement: a load that reads the stored records while it
// replaces them (an increment) sees the committed snapshot, and carries
// what it does not replace over.
func testEnrichIncrement(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.ReplaceEnrichments(ctx, "nvd", "full", emitAll(
		&vuln.Enrichment{CVE: "CVE-2020-0001", CVSS: []vuln.CVSS{{Source: "nvd", Version: "3.1", Score: 5, Severity: "MEDIUM"}}},
		&vuln.Enrichment{CVE: "CVE-2020-0002", CVSS: []vuln.CVSS{{Source: "nvd", Version: "3.1", Score: 7, Severity: "HIGH"}}},
	)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceEnrichments(ctx, "kev", "k", emitAll(&vuln.Enrichment{CVE: "CVE-2020-0002", KEV: &vuln.KEV{CVE: "CVE-2020-0002"}})); err != nil {
		t.Fatal(err)
	}
	op, err := s.ReplaceEnrichments(ctx, "nvd", "increment", func(emit func(*vuln.Enrichment) error) error {
		if err := emit(&vuln.Enrichment{CVE: "CVE-2020-0001", CVSS: []vuln.CVSS{{Source: "nvd", Version: "3.1", Score: 9.8, Severity: "CRITICAL"}}}); err != nil {
			return err
		}
		n := 0
		err := s.EnrichmentRecords(ctx, "nvd", func(e *vuln.Enrichment) error {
			n++
			if e.Feed != "nvd" {
				t.Errorf("record of feed %q", e.Feed)
			}
			if e.CVE == "CVE-2020-0001" {
				return nil // replaced
			}
			return emit(e)
		})
		if n != 2 {
			t.Errorf("EnrichmentRecords read %d records of the committed snapshot, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if op.Advisories != 2 {
		t.Errorf("increment stored %d records, want 2", op.Advisories)
	}
	m := byFeed(t, s, "CVE-2020-0001", "CVE-2020-0002")
	if e := m["nvd CVE-2020-0001"]; e == nil || e.CVSS[0].Score != 9.8 {
		t.Errorf("replaced record %+v", e)
	}
	if e := m["nvd CVE-2020-0002"]; e == nil || e.CVSS[0].Score != 7 {
		t.Errorf("carried-over record %+v", e)
	}
	if m["kev CVE-2020-0002"] == nil {
		t.Error("another feed's record lost")
	}
}
