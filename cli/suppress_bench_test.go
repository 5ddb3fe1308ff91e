package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/openclair/clair/gate"
	"github.com/openclair/clair/suppress"
	"github.com/openclair/clair/vuln"
)

// BenchmarkSuppress measures applying an ignore file of 100 entries (the
// report's first 100 vulnerability names, package-qualified) to the real
// debian-11-nginx report (389 findings), against the floor of copying the
// report through gate.Keep with no rule at all.
func BenchmarkSuppress(b *testing.B) {
	db, img := debianScan(b)
	var o, e = new(jsonBuf), new(jsonBuf)
	if code := run(b.Context(), []string{"scan", "--db", db, "--skip-update", "--format", "json", img}, o, e); code != 0 {
		b.Fatalf("exit %d: %s", code, e)
	}
	var vr vuln.VulnerabilityReport
	if err := json.Unmarshal(o.b, &vr); err != nil {
		b.Fatal(err)
	}
	var names []string
	for pid, vids := range vr.PackageVulnerabilities {
		for _, vid := range vids {
			names = append(names, fmt.Sprintf("- id: %s\n  package: %s\n  reason: r\n", vr.Vulnerabilities[vid].Name, vr.Packages[pid].Name))
		}
	}
	sort.Strings(names)
	var file string
	for _, n := range names[:100] {
		file += n
	}
	rules, err := suppress.ParseIgnore("bench.yaml", []byte(file))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			gate.Keep(&vr, func(*vuln.Package, *vuln.Vulnerability) bool { return true })
		}
	})
	b.Run("100-rules", func(b *testing.B) {
		for b.Loop() {
			if r := suppress.Apply(&vr, rules, now); len(r.Suppressed) != 100 {
				b.Fatalf("%d suppressed", len(r.Suppressed))
			}
		}
	})
}

type jsonBuf struct{ b []byte }

func (j *jsonBuf) Write(p []byte) (int, error) { j.b = append(j.b, p...); return len(p), nil }
func (j *jsonBuf) String() string              { return string(j.b) }
