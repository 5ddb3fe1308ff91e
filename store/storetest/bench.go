package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/openclair/clair/feed/osv"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// Bench runs the store benchmarks, the same for every backend so that
// their numbers compare: open returns a new, empty store that tb's cleanup
// closes; settle, when set, runs once the read benchmarks' shared data is
// written (PostgreSQL's VACUUM ANALYZE, what autovacuum would do soon after
// a big update).
func Bench(b *testing.B, open func(tb testing.TB) store.Store, settle func(context.Context, store.Store) error) {
	// The read benchmarks share one store, built on first use (building it
	// takes longer than measuring) and closed when Bench's b ends.
	var shared store.Store
	read := func(b2 *testing.B) store.Store {
		if shared != nil {
			return shared
		}
		s := open(b)
		ctx := b2.Context()
		advs := benchFeed(benchPairCount(b2))
		if _, err := s.ReplaceFeed(ctx, "debian", "fp", loadAll(advs)); err != nil {
			b2.Fatal(err)
		}
		// Another feed in the namespace, as OSV's Debian data would be.
		if _, err := s.ReplaceFeed(ctx, "osv", "fp", loadAll(benchFeedAs("osv", advs[:len(advs)/10]))); err != nil {
			b2.Fatal(err)
		}
		if settle != nil {
			if err := settle(ctx, s); err != nil {
				b2.Fatal(err)
			}
		}
		shared = s
		return s
	}
	b.Run("ReplaceFeed", func(b *testing.B) { benchReplaceFeed(b, open(b)) })
	b.Run("Advisories", func(b *testing.B) { benchAdvisories(b, read(b)) })
	b.Run("Match", func(b *testing.B) { benchMatchHits(b, read(b)) })
	b.Run("AdvisoriesDetails", func(b *testing.B) { benchAdvisoriesDetails(b, read(b)) })
	b.Run("UpdateDiff", func(b *testing.B) { benchUpdateDiff(b, open(b)) })
	b.Run("PackageNames", func(b *testing.B) { benchPackageNames(b, open(b)) })
}

// The benchmark feed imitates the Debian security tracker: every (package,
// CVE) pair is stated once per release, in the tracker's order, CVE counts per package follow a
// power law (a few packages have thousands, most have a handful), most
// statements are "fixed in V", and each CVE carries a description once.
// CLAIR_BENCH_PAIRS changes the size (pairs × 8 releases = rows).
const (
	benchPackages = 30_000
	benchPairs    = 37_500 // × 8 namespaces = 300k advisories
)

var benchNamespaces = []string{"debian:7", "debian:8", "debian:9", "debian:10", "debian:11", "debian:12", "debian:13", "debian:unstable"}

func benchPairCount(tb testing.TB) int {
	if v := os.Getenv("CLAIR_BENCH_PAIRS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatalf("CLAIR_BENCH_PAIRS: %v", err)
		}
		return n
	}
	return benchPairs
}

func benchPackage(rank int) string { return fmt.Sprintf("src-pkg-%05d", rank) }

// benchFeed returns the advisories of the synthetic feed.
func benchFeed(pairs int) []*vuln.Advisory {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.07, 2, benchPackages-1)
	sevs := []struct {
		word string
		norm vuln.Severity
	}{{"unimportant", vuln.Negligible}, {"low", vuln.Low}, {"medium", vuln.Medium}, {"high", vuln.High}, {"", vuln.Unknown}}
	// The tracker's JSON is ordered by package, then CVE, then release: so
	// is the feed.
	pkgs := make([]string, pairs)
	for i := range pkgs {
		pkgs[i] = benchPackage(int(zipf.Uint64()))
	}
	slices.Sort(pkgs)
	out := make([]*vuln.Advisory, 0, pairs*len(benchNamespaces))
	for i, pkg := range pkgs {
		name := fmt.Sprintf("CVE-%d-%05d", 2005+i%20, i)
		desc := fmt.Sprintf("Buffer overflow in the %s parser of %s allows remote attackers to cause a denial of service "+
			"(application crash) or possibly execute arbitrary code via a crafted file, a different vulnerability than %s.",
			"header", pkg, name)
		sev := sevs[rng.IntN(len(sevs))]
		for j, ns := range benchNamespaces {
			a := &vuln.Advisory{
				Feed: "debian", Name: name, Namespace: ns, Package: pkg, VersionFormat: "dpkg",
				Severity: sev.word, NormalizedSeverity: sev.norm,
			}
			switch r := rng.IntN(100); {
			case r < 70:
				a.State = vuln.StateAffected
				a.FixedIn = fmt.Sprintf("%d.%d.%d-%d+deb%du%d", rng.IntN(5), rng.IntN(30), rng.IntN(20), rng.IntN(9)+1, j+6, rng.IntN(9)+1)
				a.Ranges = []vuln.Range{{Fixed: a.FixedIn}}
			case r < 85:
				a.State = vuln.StateUnfixed
			case r < 95:
				a.State = vuln.StateNotAffected
			case r < 98:
				a.State = vuln.StateWontFix
			default: // an odd one, stored as JSON
				a.State = vuln.StateAffected
				a.FixedIn = "2.0-1"
				a.Ranges = []vuln.Range{{Introduced: "1.0-1", Fixed: "2.0-1"}}
			}
			if j == 0 { // the tracker's text, stored once per CVE
				a.Description = desc
				a.Links = []string{"https://security-tracker.debian.org/tracker/" + name}
				a.Issued = time.Date(2005+i%20, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
			}
			out = append(out, a)
		}
	}
	return out
}

// benchImage is the package list of a 700-package image: 300 source packages
// among the popular ones (which is where the CVEs are) and 400 names the feed
// knows nothing of (binary package names, or sources without CVEs).
func benchImage() []string {
	rng := rand.New(rand.NewPCG(5, 6))
	seen := map[string]bool{}
	var names []string
	for len(names) < 300 {
		p := benchPackage(10 + rng.IntN(3000))
		if !seen[p] {
			seen[p] = true
			names = append(names, p)
		}
	}
	for i := range 400 {
		names = append(names, fmt.Sprintf("lib-binary-%03d", i))
	}
	return names
}

func loadAll(advs []*vuln.Advisory) func(emit func(*vuln.Advisory) error) error {
	return func(emit func(*vuln.Advisory) error) error {
		for _, a := range advs {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	}
}

// benchReplaceFeed replaces a full snapshot with another of the same
// size: the steady state of a daily update (delete, then insert).
func benchReplaceFeed(b *testing.B, s store.Store) {
	advs := benchFeed(benchPairCount(b))
	ctx := b.Context()
	if _, err := s.ReplaceFeed(ctx, "debian", "warm", loadAll(advs)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := s.ReplaceFeed(ctx, "debian", strconv.Itoa(i), loadAll(advs)); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(len(advs)), "advisories/op")
}

// benchAdvisories is the matcher's read: the 700 package names of a
// debian:12 image against the whole feed (and a second feed), warm.
func benchAdvisories(b *testing.B, s store.Store) {
	benchMatch(b, s, func([]*vuln.Advisory) []*vuln.Advisory { return nil })
}

// benchMatchHits adds what a matcher then asks: the details of its hits,
// here the unfixed advisories and one in ten of the fixed ones (an image
// a few months old), about a quarter of the rows.
func benchMatchHits(b *testing.B, s store.Store) {
	benchMatch(b, s, func(advs []*vuln.Advisory) []*vuln.Advisory {
		var hits []*vuln.Advisory
		for i, a := range advs {
			if a.State == vuln.StateUnfixed || a.State == vuln.StateWontFix || (a.State == vuln.StateAffected && i%10 == 0) {
				hits = append(hits, a)
			}
		}
		return hits
	})
}

// benchAdvisoriesDetails asks the details of every row: a bound.
func benchAdvisoriesDetails(b *testing.B, s store.Store) {
	benchMatch(b, s, func(advs []*vuln.Advisory) []*vuln.Advisory { return advs })
}

func benchMatch(b *testing.B, s store.Store, hits func([]*vuln.Advisory) []*vuln.Advisory) {
	ctx := b.Context()
	names := benchImage()
	var rows, details int
	// Warm: every pooled connection's page cache, as in a running server.
	for range 20 {
		got, err := s.Advisories(ctx, "debian:12", names)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Details(ctx, hits(got)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		got, err := s.Advisories(ctx, "debian:12", names)
		if err != nil {
			b.Fatal(err)
		}
		h := hits(got)
		if len(h) > 0 {
			if err := s.Details(ctx, h); err != nil {
				b.Fatal(err)
			}
		}
		rows, details = len(got), len(h)
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(rows), "rows/op")
	b.ReportMetric(float64(details), "details/op")
}

// reportCPU reports the CPU time per op since start.
func reportCPU(b *testing.B, start time.Duration) {
	if c := cpuTime(); c > 0 && b.N > 0 {
		b.ReportMetric(float64(c-start)/float64(b.N), "cpu-ns/op")
	}
}
func benchFeedAs(feed string, advs []*vuln.Advisory) []*vuln.Advisory {
	out := make([]*vuln.Advisory, len(advs))
	for i, a := range advs {
		c := *a
		c.Feed = feed
		out[i] = &c
	}
	return out
}

// benchUpdateDiff diffs two snapshots of 100k advisories (unless
// CLAIR_BENCH_PAIRS says otherwise) that differ in 1%: one advisory in 100
// has a new fix, one removed and one added each.
func benchUpdateDiff(b *testing.B, s store.Store) {
	pairs := benchPairCount(b)
	if os.Getenv("CLAIR_BENCH_PAIRS") == "" {
		pairs = 12_500 // × 8 = 100k
	}
	advs := benchFeed(pairs)
	ctx := b.Context()
	op1, err := s.ReplaceFeed(ctx, "debian", "1", loadAll(advs))
	if err != nil {
		b.Fatal(err)
	}
	changed := make([]*vuln.Advisory, len(advs))
	for i, a := range advs {
		if i%100 == 50 {
			c := *a
			c.FixedIn += "+fix"
			c.Ranges = []vuln.Range{{Fixed: c.FixedIn}}
			a = &c
		}
		changed[i] = a
	}
	op2, err := s.ReplaceFeed(ctx, "debian", "2", loadAll(changed))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	var added, removed int
	for b.Loop() {
		d, err := s.UpdateDiff(ctx, op1.ID, op2.ID)
		if err != nil {
			b.Fatal(err)
		}
		added, removed = len(d.Added), len(d.Removed)
	}
	reportCPU(b, cpu)
	if added != len(advs)/100 || removed != added {
		b.Fatalf("%d added, %d removed; want %d each", added, removed, len(advs)/100)
	}
	b.ReportMetric(float64(len(advs)), "advisories")
	b.ReportMetric(float64(added), "added/op")
}

// benchPackageNames reads the package names of osv.dev's full Maven
// export (what the matcher does once per feed generation) against a floor:
// the advisories of one package, what every match reads.
func benchPackageNames(b *testing.B, s store.Store) {
	f, err := os.Open(sharedtest.Path(b, "feeds/osv/Maven.zip"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if _, err := s.ReplaceFeed(ctx, "osv", "bench", func(emit func(*vuln.Advisory) error) error {
		return osv.New().Parse(ctx, f, fi.Size(), func(a *vuln.Advisory) error { a.Feed = "osv"; return emit(a) })
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			if as, err := s.Advisories(ctx, "maven", []string{"org.springframework:spring-beans"}); err != nil || len(as) == 0 {
				b.Fatal(len(as), err)
			}
		}
	})
	b.Run("names", func(b *testing.B) {
		for b.Loop() {
			if ns, err := s.PackageNames(ctx, "maven"); err != nil || len(ns) != 2426 {
				b.Fatal(len(ns), err)
			}
		}
	})
}
