// Package reporttest builds real vulnerability reports for the report
// formats' and the web page's tests: the repository's debian-11-nginx image
// indexed with the real dpkg and os-release scanners, matched against the
// real Debian tracker excerpt, with Clair's CVSS enrichment built from
// NVD's own API records where ../shared/testdata has them.
package reporttest

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/match"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/distro"
	"github.com/openclair/clair/scanner/dpkg"
	"github.com/openclair/clair/store"
	_ "github.com/openclair/clair/version/deb"
	"github.com/openclair/clair/vuln"
)

// CVSSKey is the enrichment key claircore's CVSS enricher writes under
// (quay/claircore enricher/cvss, NVD 2.0 API since claircore 1.5.x).
const CVSSKey = "message/vnd.clair.map.vulnerability; enricher=clair.cvss schema=https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema"

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Image is the reference of the test image.
func Image() string {
	return "docker-archive:" + filepath.Join(Root(), "testdata/images/debian-11-nginx.tar")
}

// DebianNginx indexes the debian-11-nginx image into st, loads the Debian
// bullseye excerpt as the "debian" feed, stores the index report and
// returns it with its vulnerability report.
func DebianNginx(ctx context.Context, st store.Store) (*vuln.IndexReport, *vuln.VulnerabilityReport, error) {
	img, err := image.Open(ctx, Image(), image.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer img.Close()
	ix := &index.Indexer{Store: st, Scanners: []scanner.Scanner{&dpkg.Scanner{}, &distro.Scanner{}}}
	ir, err := ix.Index(ctx, img)
	if err != nil {
		return nil, nil, err
	}
	if err := st.PutIndexReport(ctx, ir); err != nil {
		return nil, nil, err
	}
	if err := LoadDebianFeed(ctx, st, filepath.Join(Root(), "testdata/feeds/debian-bullseye-nginx.json")); err != nil {
		return nil, nil, err
	}
	vr, err := (&match.Matcher{Store: st}).Match(ctx, ir)
	if err != nil {
		return nil, nil, err
	}
	return ir, vr, nil
}

// LoadDebianFeed stores the tracker JSON at path as the "debian" feed.
func LoadDebianFeed(ctx context.Context, st store.Store, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	feed := debian.New()
	_, err = st.ReplaceFeed(ctx, "debian", fi.ModTime().String(), func(emit func(*vuln.Advisory) error) error {
		return feed.Parse(ctx, f, fi.Size(), func(a *vuln.Advisory) error { a.Feed = "debian"; return emit(a) })
	})
	return err
}

// nvdPage is the part of an NVD 2.0 API page the CVSS enrichment reads.
type nvdPage struct {
	Vulnerabilities []struct {
		CVE struct {
			ID      string `json:"id"`
			Metrics struct {
				V31 []nvdMetric `json:"cvssMetricV31"`
				V30 []nvdMetric `json:"cvssMetricV30"`
			} `json:"metrics"`
		} `json:"cve"`
	} `json:"vulnerabilities"`
}

type nvdMetric struct {
	Type string          `json:"type"`
	CVSS json.RawMessage `json:"cvssData"`
}

// Enrich adds Clair's CVSS enrichment to vr from the NVD API 2.0 pages
// given (the primary CVSS 3.1, else 3.0, object per CVE, as claircore's
// enricher keeps it), for the report's vulnerabilities NVD scores. It
// returns how many vulnerabilities got a score.
func Enrich(vr *vuln.VulnerabilityReport, pages ...string) (int, error) {
	scores := map[string]json.RawMessage{}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, err
		}
		var page nvdPage
		if err := json.Unmarshal(b, &page); err != nil {
			return 0, fmt.Errorf("reporttest: %s: %w", p, err)
		}
		for _, v := range page.Vulnerabilities {
			for _, m := range append(v.CVE.Metrics.V31, v.CVE.Metrics.V30...) {
				if m.Type == "Primary" {
					scores[v.CVE.ID] = m.CVSS
					break
				}
			}
		}
	}
	m := map[string][]json.RawMessage{}
	for id, v := range vr.Vulnerabilities {
		if s, ok := scores[v.Name]; ok {
			m[id] = append(m[id], s)
		}
	}
	if len(m) == 0 {
		return 0, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	if vr.Enrichments == nil {
		vr.Enrichments = map[string][]any{}
	}
	vr.Enrichments[CVSSKey] = []any{json.RawMessage(b)}
	return len(m), nil
}

// NVDSample is the shared NVD API 2.0 page whose CVEs include
// CVE-2016-2781 (coreutils, in the test image), or "" when the shared
// test data is absent.
func NVDSample() string {
	p := filepath.Join(sharedtest.Dir(), "feeds/nvd/claircore-nvd-api2-sample.json")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// debianStatusFiles are the shared test data's real dpkg status files
// (as match's BenchmarkMatchFullDebian reads them).
var debianStatusFiles = []string{
	"pkgdb/rootfs/debian-12-python3.12-slim-langflow/var/lib/dpkg/status",
	"pkgdb/rootfs/debian-11-nginx/var/lib/dpkg/status",
	"pkgdb/dpkg/claircore-texlive.status",
	"pkgdb/dpkg/claircore-postgresql.status",
	"pkgdb/dpkg/claircore-vcpkg.status",
	"pkgdb/dpkg/claircore-debian-only.status",
	"pkgdb/dpkg/trivy-ubuntu-status",
	"pkgdb/rootfs/ubuntu-20.04-base-industio/var/lib/dpkg/status",
}

// FullDebian is the 700-package Debian report of the benchmarks: n
// distinct real package records from the shared dpkg status files, in two
// layers, matched against the full-size Debian tracker JSON (loaded into
// st), with every vulnerability carrying a real NVD CVSS object (the NVD
// sample's, assigned in turn: the shared data has no full NVD feed) so
// the formats pay the enrichment's full cost. It needs ../shared/testdata.
func FullDebian(ctx context.Context, st store.Store, n int) (*vuln.VulnerabilityReport, error) {
	dir := sharedtest.Dir()
	seen := map[string]bool{}
	pkgs := map[string]*vuln.Package{}
	var s dpkg.Scanner
	for _, f := range debianStatusFiles {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		res, err := s.Scan(ctx, scanner.File{Path: "var/lib/dpkg/status", R: fh})
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("reporttest: %s: %w", f, err)
		}
		for _, p := range res.Packages {
			k := p.Name + " " + p.Version
			if seen[k] || len(pkgs) >= n {
				continue
			}
			seen[k] = true
			p.ID = strconv.Itoa(len(pkgs) + 1)
			pkgs[p.ID] = p
		}
	}
	if len(pkgs) < n {
		return nil, fmt.Errorf("reporttest: only %d real packages", len(pkgs))
	}
	tracker := filepath.Join(dir, "feeds/debian/tracker-json-from-osv.json.gz")
	snap := filepath.Join(os.TempDir(), fmt.Sprintf("reporttest-tracker-%d.json", os.Getpid()))
	if err := Gunzip(tracker, snap); err != nil {
		return nil, err
	}
	defer os.Remove(snap)
	if err := LoadDebianFeed(ctx, st, snap); err != nil {
		return nil, err
	}
	ir := &vuln.IndexReport{
		ManifestHash:  "sha256:" + strings.Repeat("ab", 32),
		Packages:      pkgs,
		Distributions: map[string]*vuln.Distribution{"1": {ID: "1", DID: "debian", VersionID: "12", VersionCodeName: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"}},
		Environments:  map[string][]*vuln.Environment{},
	}
	layers := []string{"sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("2", 64)}
	for id := range pkgs {
		i, _ := strconv.Atoi(id)
		ir.Environments[id] = []*vuln.Environment{{PackageDB: "var/lib/dpkg/status", IntroducedIn: layers[i%2], DistributionID: "1"}}
	}
	vr, err := (&match.Matcher{Store: st}).Match(ctx, ir)
	if err != nil {
		return nil, err
	}
	sample := NVDSample()
	if sample == "" {
		return vr, nil
	}
	b, err := os.ReadFile(sample)
	if err != nil {
		return nil, err
	}
	var page nvdPage
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, err
	}
	var objs []json.RawMessage
	for _, v := range page.Vulnerabilities {
		for _, m := range append(v.CVE.Metrics.V31, v.CVE.Metrics.V30...) {
			if m.Type == "Primary" {
				objs = append(objs, m.CVSS)
				break
			}
		}
	}
	ids := make([]string, 0, len(vr.Vulnerabilities))
	for id := range vr.Vulnerabilities {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	m := map[string][]json.RawMessage{}
	for i, id := range ids {
		m[id] = []json.RawMessage{objs[i%len(objs)]}
	}
	enc, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if vr.Enrichments == nil {
		vr.Enrichments = map[string][]any{}
	}
	vr.Enrichments[CVSSKey] = []any{json.RawMessage(enc)}
	return vr, nil
}

// Gunzip writes the gzip file src uncompressed to dst.
func Gunzip(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("reporttest: %s: %w", src, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, zr); err != nil {
		out.Close()
		return fmt.Errorf("reporttest: %s: %w", src, err)
	}
	return out.Close()
}
