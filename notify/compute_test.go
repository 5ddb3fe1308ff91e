package notify_test

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/vuln"
)

// change is a notification without its id, for comparison.
type change struct {
	Manifest string
	Reason   notify.Reason
	Vuln     string // the summary, as JSON
}

func changesOf(ns []notify.Notification) []change {
	var out []change
	for _, n := range ns {
		b, _ := json.Marshal(n.Vulnerability)
		out = append(out, change{n.Manifest, n.Reason, string(b)})
	}
	sortChanges(out)
	return out
}

func sortChanges(cs []change) {
	slices.SortFunc(cs, func(a, b change) int {
		return cmp.Or(cmp.Compare(a.Manifest, b.Manifest), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Vuln, b.Vuln))
	})
}

// reportsNow matches every whole report with the store as it is: the
// independent computation Compute's answer is checked against.
func reportsNow(t *testing.T, st testStore, irs []*vuln.IndexReport) map[string]*vuln.VulnerabilityReport {
	t.Helper()
	m := &match.Matcher{Store: st}
	out := map[string]*vuln.VulnerabilityReport{}
	for _, ir := range irs {
		vr, err := m.Match(context.Background(), ir)
		if err != nil {
			t.Fatal(err)
		}
		out[ir.ManifestHash] = vr
	}
	return out
}

// expected is the report change from before to after, one change per
// (manifest, vulnerability).
func expected(before, after map[string]*vuln.VulnerabilityReport) []change {
	var out []change
	add := func(m string, r notify.Reason, v *vuln.Vulnerability) {
		b, _ := json.Marshal(notify.Summarize(v))
		out = append(out, change{m, r, string(b)})
	}
	for m, a := range after {
		b := before[m]
		for id, v := range a.Vulnerabilities {
			if _, ok := b.Vulnerabilities[id]; !ok {
				add(m, notify.Added, v)
			}
		}
		for id, v := range b.Vulnerabilities {
			if _, ok := a.Vulnerabilities[id]; !ok {
				add(m, notify.Removed, v)
			}
		}
	}
	sortChanges(out)
	return out
}

// older makes an older snapshot of the real feed: a third of the
// advisories not yet published, and a fifth with a fix that a later
// snapshot corrected (one removed, one added).
func older(full []*vuln.Advisory) []*vuln.Advisory {
	var old []*vuln.Advisory
	for i, a := range full {
		switch {
		case i%3 == 0:
		case i%5 == 1 && a.FixedIn != "":
			cp := *a
			cp.FixedIn = "0.0.1-r0"
			cp.Ranges = []vuln.Range{{Fixed: cp.FixedIn}}
			old = append(old, &cp)
		default:
			old = append(old, a)
		}
	}
	return old
}

// TestComputeRealAlpine: real Alpine images (the official minirootfs
// layers) against the real Alpine secdb.
func TestComputeRealAlpine(t *testing.T) {
	full := alpineAdvisories(t, "v3.10", "v3.18", "v3.20")
	irs := []*vuln.IndexReport{
		indexLayer(t, "pkgdb/layers/alpine-minirootfs-3.10.3-x86_64.tar.gz", "sha256:a310"),
		indexLayer(t, "pkgdb/layers/alpine-minirootfs-3.18.9-x86_64.tar.gz", "sha256:a318"),
		indexLayer(t, "pkgdb/layers/alpine-minirootfs-3.20.3-x86_64.tar.gz", "sha256:a320"),
	}
	checkCompute(t, "alpine", full, irs, 3)
}

// TestComputeRealDebian: real Debian 11 and 12 images (their dpkg
// databases) against the real Debian tracker, and an Ubuntu image no
// Debian advisory may touch.
func TestComputeRealDebian(t *testing.T) {
	irs := []*vuln.IndexReport{
		indexDir(t, sharedtest.Path(t, "pkgdb/rootfs/debian-11-nginx"), "sha256:d11"),
		indexDir(t, sharedtest.Path(t, "pkgdb/rootfs/debian-12-python3.12-slim-langflow"), "sha256:d12"),
		indexDir(t, sharedtest.Path(t, "pkgdb/rootfs/ubuntu-20.04-base-industio"), "sha256:u20"),
	}
	full := debianAdvisories(t, irs)
	checkCompute(t, "debian", full, irs, 50)
}

// checkCompute updates the feed from an older snapshot to full and back,
// and checks Compute's answers against whole reports matched before and
// after, on both stores.
func checkCompute(t *testing.T, feed string, full []*vuln.Advisory, irs []*vuln.IndexReport, least int) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			old := older(full)
			for _, ir := range irs {
				if len(ir.Packages) == 0 {
					t.Fatalf("%s: no packages indexed", ir.ManifestHash)
				}
				if err := st.PutIndexReport(ctx, ir); err != nil {
					t.Fatal(err)
				}
			}

			op1 := replace(t, st, feed, "old", old)
			r1 := reportsNow(t, st, irs)
			op2 := replace(t, st, feed, "new", full)
			r2 := reportsNow(t, st, irs)
			op3 := replace(t, st, feed, "old again", old)
			r3 := reportsNow(t, st, irs)

			// A feed's first snapshot notifies nothing.
			if ns, err := notify.Compute(ctx, st, "", op1.ID, false); err != nil || len(ns) != 0 {
				t.Fatalf("first snapshot: %d notifications, %v", len(ns), err)
			}
			// Both operations are computed with op3 current: the views
			// undo what came after them.
			for _, tc := range []struct {
				what          string
				prev, cur     string
				before, after map[string]*vuln.VulnerabilityReport
				reason        notify.Reason
			}{
				{"update", op1.ID, op2.ID, r1, r2, notify.Added},
				{"revert", op2.ID, op3.ID, r2, r3, notify.Removed},
			} {
				want := expected(tc.before, tc.after)
				n := 0
				for _, c := range want {
					if c.Reason == tc.reason {
						n++
					}
				}
				if n < least {
					t.Fatalf("%s: the real data gives only %d %s changes: the test proves little", tc.what, n, tc.reason)
				}
				ns, err := notify.Compute(ctx, st, tc.prev, tc.cur, false)
				if err != nil {
					t.Fatal(err)
				}
				got := changesOf(ns)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %d notifications, want %d", tc.what, len(got), len(want))
					for i := 0; i < len(got) || i < len(want); i++ {
						var g, w change
						if i < len(got) {
							g = got[i]
						}
						if i < len(want) {
							w = want[i]
						}
						if g != w {
							t.Errorf("first difference at %d:\n got %+v\nwant %+v", i, g, w)
							break
						}
					}
				}
				ids := map[string]bool{}
				for _, n := range ns {
					if ids[n.ID] {
						t.Errorf("%s: duplicate id %s", tc.what, n.ID)
					}
					ids[n.ID] = true
				}
				t.Logf("%s: %d notifications", tc.what, len(ns))

				// Summary: one per manifest that changed, its most
				// severe added vulnerability when it gained any.
				sum, err := notify.Compute(ctx, st, tc.prev, tc.cur, true)
				if err != nil {
					t.Fatal(err)
				}
				perManifest := map[string][]notify.Notification{}
				for _, n := range ns {
					perManifest[n.Manifest] = append(perManifest[n.Manifest], n)
				}
				if len(sum) != len(perManifest) {
					t.Errorf("%s: summary has %d notifications for %d manifests", tc.what, len(sum), len(perManifest))
				}
				for _, s := range sum {
					for _, n := range perManifest[s.Manifest] {
						if n.Reason == s.Reason && severity(n) > severity(s) {
							t.Errorf("%s: summary of %s is %s (%s), but %s is %s", tc.what, s.Manifest,
								s.Vulnerability.Name, s.Vulnerability.NormalizedSeverity, n.Vulnerability.Name, n.Vulnerability.NormalizedSeverity)
						}
						if n.Reason == notify.Added && s.Reason != notify.Added {
							t.Errorf("%s: summary of %s is %s though it gained vulnerabilities", tc.what, s.Manifest, s.Reason)
						}
					}
				}
			}
		})
	}
}

func severity(n notify.Notification) vuln.Severity {
	s, _ := vuln.ParseSeverity(n.Vulnerability.NormalizedSeverity)
	return s
}
