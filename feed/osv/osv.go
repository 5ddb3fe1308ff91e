// Package osv is the feed of language-ecosystem advisories (Go modules, PyPI,
// npm, Maven, RubyGems, crates.io, NuGet, Packagist) and of the Rocky Linux
// and AlmaLinux errata from osv.dev's exports: one <Ecosystem>/all.zip of
// OSV records per ecosystem ("Rocky Linux/all.zip", the space escaped in
// URLs).
//
// The snapshot Fetch writes is an uncompressed tar holding each ecosystem's
// zip unchanged as "<Ecosystem>/all.zip". Parse reads every zip in place
// through an io.SectionReader (a tar entry's data is contiguous), so nothing
// is spilled to disk and memory holds one record at a time plus a small
// index of alias groups (see Parse).
//
// Mapping of a record's affected[] entry to a vuln.Advisory:
//
//   - Namespace: the ecosystem's lowercase short name ("go", "pypi", "npm",
//     "maven", "rubygems", "cargo", "nuget", "composer"), the Ecosystem of the
//     packages the indexer finds. Distributions: "rocky:<major>" and
//     "alma:<major>" from the ecosystem's release ("Rocky Linux:9" →
//     "rocky:9", "AlmaLinux:8" → "alma:8"), vuln.Namespace's keys for their
//     images; an entry without a numeric release is skipped, and so are
//     bug fix and enhancement errata (ALBA-, RLEA-, …) that name no CVE.
//   - Package: the OSV package name; PyPI names are normalized as PEP 503
//     says (lowercase, runs of "-", "_", "." become "-"). Rpm names are
//     kept: AlmaLinux lists binary rpms ("krb5-libs"), and the matcher
//     looks an rpm up under its own and its source rpm's name.
//   - VersionFormat: "semver" (Go), "pep440" (PyPI), "npm" (npm), "rpm"
//     (Rocky Linux, AlmaLinux), and the namespace itself for the others
//     ("maven", "rubygems", "cargo", "nuget", "composer").
//   - Go versions get the leading "v" Go module versions have (OSV omits it).
//   - Rpm versions are kept as written, "[epoch:]version-release": Rocky
//     Linux writes every epoch ("0:102.11.0-2.el8_7"), AlmaLinux only a
//     non-zero one ("3:10.3.39-1…", "2.20.0-3.el8_8"). A missing epoch is
//     0, as rpm reads it and as the rpm scheme compares it.
//   - Module (distributions): the errata of module streams fix builds whose
//     release carries ".module+el…"/".module_el…"; their advisories get the
//     stream the summary names ("Moderate: ruby:3.3 security update" →
//     "ruby:3.3"), so that the matcher applies them to that stream's
//     packages only. A summary naming no stream or several leaves it empty.
//   - Name: the CVE when the record has exactly one CVE alias, the record id
//     otherwise; Aliases: every other id, the record id included. Rocky
//     Linux and AlmaLinux errata list their CVEs under "related" (or
//     "upstream"); for them those CVEs count as aliases.
//   - Ranges: SEMVER and ECOSYSTEM ranges, one vuln.Range per "introduced"
//     ("0" is the beginning, Introduced ""); "limit" is read as "fixed"; GIT
//     ranges are skipped. A range without any bound is kept as {} only when
//     the entry has other ranges (it still means "every version").
//   - State: StateAffected when some range is closed by "fixed" (or
//     "last_affected"), or when only an explicit "versions" list is given;
//     StateUnfixed when every range is open-ended (ranges kept: an
//     "introduced: 1.4.0" with no fix affects 1.4.0 and later only).
//     Entries with neither usable ranges nor versions are skipped: OSV gives
//     them no meaning.
//   - FixedIn: the lowest "fixed" of the entry's ranges, compared with the
//     version scheme when one is registered (the first in record order
//     otherwise). It is what the report shows; matching uses Ranges, so a
//     version on a later branch is still matched against its own fix.
//   - Severity: GHSA's database_specific.severity (LOW, MODERATE, HIGH,
//     CRITICAL → Low, Medium, High, Critical); failing that, for the
//     distributions, the Red Hat impact the summary starts with (Low,
//     Moderate, Important, Critical → Low, Medium, High, Critical); failing
//     that the first CVSS vector as Severity with NormalizedSeverity Unknown.
//   - Withdrawn records are skipped.
//
// Duplicates: GHSA, PYSEC, GO, RUSTSEC and other databases publish records
// about the same vulnerability. In the language ecosystems Parse emits one
// advisory per (namespace, package, Name), and also folds a record into an
// earlier one of the same package when their ids and aliases link them
// (unless each is named by a different CVE; see Parse). The first record in
// snapshot order (ecosystems in Fetch's order, records in zip order, which
// puts GHSA-… before GO-…, PYSEC-… and RUSTSEC-…) emits the advisory: its
// fields are kept, its Aliases gain the ids and aliases of the records it
// stands for, and its Ranges and Versions become the union of every
// record's, as OSV reads aliased records (a version is affected when any
// record about the vulnerability affects it; GHSA may list 2.9.0–2.9.3 where
// PYSEC says everything before 2.9.3). FixedIn is the lowest fix; the
// matcher reports the fix of the range a version falls in. Several affected[] entries
// of one record for the same package are merged into one advisory (in
// every ecosystem).
//
// The distributions' records are never merged with one another: each
// erratum is a fix of its own (another module stream, a later rebuild), so
// two errata naming the same CVE for a package both give an advisory, each
// with its own ranges. Only a record listed twice is read once. They never
// meet language records either: the namespaces differ.
package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/internal/redact"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "osv"

// DefaultURL is the root of osv.dev's exports: <DefaultURL><Ecosystem>/all.zip.
const DefaultURL = "https://osv-vulnerabilities.storage.googleapis.com/"

// maxRecord bounds one decompressed record; it keeps a zip bomb from
// exhausting memory. The largest real records are well under a megabyte.
const maxRecord = 64 << 20

// Ecosystem describes one OSV ecosystem the feed knows.
type Ecosystem struct {
	OSV           string // OSV's name: "Go", "PyPI", "crates.io", "Rocky Linux", ...
	Namespace     string // advisory namespace: "go", "pypi", "cargo", or its prefix: "rocky"
	VersionFormat string // advisory version format: "semver", "pep440", "rpm", ...
	// Distribution marks a distribution's ecosystem: OSV names it with the
	// release ("Rocky Linux:9"), the advisory namespace is Namespace, ":"
	// and the major release ("rocky:9"), and its records are never merged
	// with one another (see Parse).
	Distribution bool
}

// Ecosystems lists the ecosystems the feed maps, in the default fetch order.
var Ecosystems = []Ecosystem{
	{"Go", "go", "semver", false},
	{"PyPI", "pypi", "pep440", false},
	{"npm", "npm", "npm", false},
	{"Maven", "maven", "maven", false},
	{"RubyGems", "rubygems", "rubygems", false},
	{"crates.io", "cargo", "cargo", false},
	{"NuGet", "nuget", "nuget", false},
	{"Packagist", "composer", "composer", false},
	{"Rocky Linux", "rocky", "rpm", true},
	{"AlmaLinux", "alma", "rpm", true},
}

func lookupEcosystem(osvName string) (Ecosystem, bool) {
	for _, e := range Ecosystems {
		if e.OSV == osvName {
			return e, true
		}
	}
	return Ecosystem{}, false
}

// distribution reports whether a is an advisory of a distribution
// ecosystem ("rocky:9"); language namespaces have no ":".
func distribution(a *vuln.Advisory) bool {
	prefix, _, ok := strings.Cut(a.Namespace, ":")
	if !ok {
		return false
	}
	for _, e := range Ecosystems {
		if e.Distribution && e.Namespace == prefix {
			return true
		}
	}
	return false
}

func init() { feed.Register(New()) }

// Feed is the OSV language-ecosystem feed.
type Feed struct {
	// Ecosystems are the OSV names of the ecosystems Fetch downloads, in
	// order; New sets every entry of the package's Ecosystems.
	Ecosystems []string
}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed for every known ecosystem.
func New() *Feed {
	f := &Feed{}
	for _, e := range Ecosystems {
		f.Ecosystems = append(f.Ecosystems, e.OSV)
	}
	return f
}

// Name implements feed.Feed.
func (*Feed) Name() string { return Name }

// DefaultURL implements feed.Feed.
func (*Feed) DefaultURL() string { return DefaultURL }

// Fetch implements feed.Feed. rawURL is the export root: over HTTP each
// ecosystem is <root>/<Ecosystem>/all.zip; in a local directory either
// <root>/<Ecosystem>/all.zip or <root>/<Ecosystem>.zip. An ecosystem that is
// not there (404, missing file) is skipped; at least one must be found.
//
// The fingerprint is a JSON object of each ecosystem's feed.Get fingerprint.
// When every ecosystem is unchanged Fetch returns feed.ErrUnchanged after one
// request per ecosystem. When some changed, the unchanged ones are downloaded
// again (their bytes were not sent), so that the snapshot is complete.
func (f *Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	ecos := f.Ecosystems
	if len(ecos) == 0 {
		return "", errors.New("osv: no ecosystems configured")
	}
	for _, e := range ecos {
		if e == "" || strings.ContainsAny(e, "/\\") || e == "." || e == ".." {
			return "", fmt.Errorf("osv: invalid ecosystem name %q", e)
		}
	}
	prevFP := map[string]string{}
	if prev != "" && json.Unmarshal([]byte(prev), &prevFP) != nil {
		prevFP = map[string]string{}
	}
	tmp, err := feed.MkdirTemp("", "osv")
	if err != nil {
		return "", fmt.Errorf("osv: %w", err)
	}
	defer os.RemoveAll(tmp)

	type result struct {
		eco, url, file, fp string
		unchanged          bool
	}
	var results []*result
	fps := map[string]string{}
	changed := false
	for i, eco := range ecos {
		u, err := ecosystemURL(rawURL, eco)
		if err != nil {
			return "", err
		}
		if u == "" { // a local tree without this ecosystem
			changed = changed || prevFP[eco] != ""
			continue
		}
		r := &result{eco: eco, url: u, file: filepath.Join(tmp, fmt.Sprintf("%d.zip", i))}
		fp, err := get(ctx, c, u, prevFP[eco], r.file)
		switch {
		case errors.Is(err, feed.ErrUnchanged):
			r.unchanged, r.fp = true, prevFP[eco]
		case feed.IsNotExist(err):
			changed = changed || prevFP[eco] != ""
			continue
		case err != nil:
			return "", fmt.Errorf("osv: %s: %w", eco, err)
		default:
			r.fp = fp
			changed = true
		}
		fps[eco] = r.fp
		results = append(results, r)
	}
	if len(results) == 0 {
		return "", fmt.Errorf("osv: %s: none of the ecosystems %s is there", redact.URL(rawURL), strings.Join(ecos, ", "))
	}
	for eco := range prevFP {
		if _, ok := fps[eco]; !ok {
			changed = true // dropped from the configuration
		}
	}
	if !changed {
		return "", feed.ErrUnchanged
	}
	sw := snapshot.NewWriter(dst)
	for _, r := range results {
		if r.unchanged {
			// Unchanged, but the snapshot replaces the old one whole.
			fp, err := get(ctx, c, r.url, "", r.file)
			if err != nil {
				return "", fmt.Errorf("osv: %s: %w", r.eco, err)
			}
			fps[r.eco] = fp
		}
		if err := sw.AddFile(r.eco+"/all.zip", r.file); err != nil {
			return "", fmt.Errorf("osv: %s: writing snapshot: %w", r.eco, err)
		}
		os.Remove(r.file)
	}
	if err := sw.Close(); err != nil {
		return "", fmt.Errorf("osv: writing snapshot: %w", err)
	}
	b, err := json.Marshal(fps) // map keys are sorted: a stable fingerprint
	if err != nil {
		return "", fmt.Errorf("osv: %w", err)
	}
	return string(b), nil
}

// ecosystemURL returns where eco's zip is under root, "" for a local tree
// that does not hold it.
func ecosystemURL(root, eco string) (string, error) {
	if p, ok := feed.FilePath(root); ok {
		for _, c := range []string{filepath.Join(p, eco, "all.zip"), filepath.Join(p, eco+".zip")} {
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
				return c, nil
			}
		}
		return "", nil
	}
	u, err := url.Parse(root)
	if err != nil {
		return "", fmt.Errorf("osv: %q: %w", root, err)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u.JoinPath(eco, "all.zip").String(), nil
}

func get(ctx context.Context, c *http.Client, u, prev, file string) (string, error) {
	w, err := os.Create(file)
	if err != nil {
		return "", err
	}
	fp, err := feed.Get(ctx, c, u, prev, w)
	if cerr := w.Close(); err == nil && cerr != nil {
		return "", cerr
	}
	return fp, err
}

// archive is one ecosystem's zip inside the snapshot.
type archive struct {
	name string // the tar entry's name, for errors
	eco  Ecosystem
	any  bool // a bare zip snapshot: entries of every known ecosystem count
	zr   *zip.Reader
}

// archives lists the zips of a snapshot: the tar Fetch writes, or (for
// tests and hand-made snapshots) a single zip of records of any ecosystem.
func archives(snap io.ReaderAt, size int64) ([]archive, error) {
	var magic [4]byte
	if n, _ := snap.ReadAt(magic[:], 0); n == 4 && bytes.Equal(magic[:], []byte("PK\x03\x04")) ||
		n >= 4 && bytes.Equal(magic[:], []byte("PK\x05\x06")) {
		zr, err := zip.NewReader(snap, size)
		if err != nil {
			return nil, fmt.Errorf("osv: snapshot: %w", err)
		}
		return []archive{{name: "snapshot", any: true, zr: zr}}, nil
	}
	var out []archive
	err := snapshot.Walk(context.Background(), snap, size, func(e snapshot.Entry) error {
		dir, base := path.Split(e.Name)
		var ecoName string
		switch {
		case base == "all.zip" && dir != "":
			ecoName = strings.TrimSuffix(dir, "/")
		case path.Ext(base) == ".zip" && dir == "":
			ecoName = strings.TrimSuffix(base, ".zip")
		default:
			return nil
		}
		eco, ok := lookupEcosystem(ecoName)
		if !ok {
			return nil // an ecosystem this code does not map
		}
		zr, err := zip.NewReader(e.Data, e.Data.Size())
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		out = append(out, archive{name: e.Name, eco: eco, zr: zr})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("osv: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("osv: snapshot holds no <Ecosystem>/all.zip of a known ecosystem")
	}
	return out, nil
}

// group is what the first pass keeps of one advisory: who emits it, and the
// ids of the records it stands for.
type group struct {
	owner int64    // archive index << 32 | file index
	name  string   // the advisory's Name
	extra []string // Names and aliases of the duplicates, unsorted
	// ranges and versions are the duplicates' statements: OSV reads a
	// version as affected when any record about the vulnerability says so,
	// so the advisory the owner emits carries their union.
	ranges   []vuln.Range
	versions []string
}

// statement returns what a says is affected as ranges and versions; an
// advisory about every version (unfixed, no bounds) is the range {}.
func statement(a *vuln.Advisory) ([]vuln.Range, []string) {
	if len(a.Ranges) == 0 && len(a.Versions) == 0 && a.State == vuln.StateUnfixed {
		return []vuln.Range{{}}, nil
	}
	return a.Ranges, a.Versions
}

// union gives a the ranges and versions of its duplicates (g), every one
// kept once, in the order read (the owner's first), and sets State and
// FixedIn again. The matcher reports the fix of the range a version falls
// in, so a version on a branch only a duplicate lists still reads its own
// fix.
func union(a *vuln.Advisory, g *group) {
	if len(g.ranges) == 0 && len(g.versions) == 0 {
		return
	}
	rs, vs := statement(a)
	rs, vs = slices.Clone(rs), slices.Clone(vs)
	for _, r := range g.ranges {
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	for _, v := range g.versions {
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	a.Ranges, a.Versions = slices.Clip(rs), slices.Clip(vs)
	if len(a.Versions) == 0 {
		a.Versions = nil
	}
	finish(a)
}

// Parse implements feed.Feed. It reads the snapshot twice: the first pass
// decides which record emits each advisory and gathers the aliases of its
// duplicates (ids only: about 10 MB for the whole of osv.dev's language
// ecosystems); the second emits.
//
// Two records' advisories for the same language namespace and package are
// duplicates when they have the same Name, or when one record's id or
// aliases include an id (or alias) of the record that came first: OSV's
// aliases mean "the same vulnerability" (GHSA-x without a CVE and GO-y
// listing it, RUSTSEC-z and its GHSA). Links are followed one step only,
// from a later record to the first of its group, and never join two
// advisories named by different CVEs: those stay apart, so that each CVE
// keeps its own report entry.
func (*Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	arcs, err := archives(snap, size)
	if err != nil {
		return err
	}
	byName := map[string]*group{} // key(a) → the group a belongs to
	byID := map[string]*group{}   // namespace, package, id → the first group with the id
	records := 0
	var buf bytes.Buffer // the record being read, reused: decode copies out
	walk := func(fn func(owner int64, ar *archive, name string, r *record) error) error {
		for ai := range arcs {
			ar := &arcs[ai]
			for fi, f := range ar.zr.File {
				if !strings.HasSuffix(f.Name, ".json") || f.FileInfo().IsDir() {
					continue
				}
				if fi%1000 == 0 {
					if err := ctx.Err(); err != nil {
						return fmt.Errorf("osv: %w", err)
					}
				}
				name := ar.name + ":" + f.Name
				b, err := readRecord(f, &buf)
				if err != nil {
					return fmt.Errorf("osv: %s: %w", name, err)
				}
				r, err := decode(name, b)
				if err != nil {
					return err
				}
				if err := fn(int64(ai)<<32|int64(fi), ar, name, r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err = walk(func(owner int64, ar *archive, name string, r *record) error {
		records++
		advs, err := convert(name, r, ar)
		if err != nil {
			return err
		}
		for _, a := range advs {
			if distribution(a) {
				// One advisory per record: errata of a distribution
				// that name the same CVE are separate fixes (another
				// module stream, a later rebuild), each with its own
				// ranges. Only a record listed twice is dropped.
				k := key(a) + "\x00" + r.ID
				if byName[k] == nil {
					byName[k] = &group{owner: owner, name: a.Name}
				}
				continue
			}
			k := key(a)
			g := byName[k]
			if g == nil {
				g = linked(byID, a)
				if g != nil {
					byName[k] = g
				}
			}
			switch {
			case g == nil:
				g = &group{owner: owner, name: a.Name}
				byName[k] = g
				prefix := a.Namespace + "\x00" + a.Package + "\x00"
				for _, id := range append([]string{a.Name}, a.Aliases...) {
					if _, ok := byID[prefix+id]; !ok {
						byID[prefix+id] = g
					}
				}
			case g.owner != owner:
				g.extra = append(append(g.extra, a.Name), a.Aliases...)
				rs, vs := statement(a)
				g.ranges = append(g.ranges, rs...)
				g.versions = append(g.versions, vs...)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if records == 0 {
		// An empty snapshot would silently wipe every advisory of the feed.
		return errors.New("osv: snapshot holds no records")
	}
	return walk(func(owner int64, ar *archive, name string, r *record) error {
		advs, err := convert(name, r, ar)
		if err != nil {
			return err
		}
		for _, a := range advs {
			k := key(a)
			if distribution(a) {
				k += "\x00" + r.ID
			}
			g := byName[k]
			if g == nil || g.owner != owner || g.name != a.Name {
				continue // another record says it
			}
			if len(g.extra) > 0 {
				a.Aliases = mergeAliases(a.Name, a.Aliases, g.extra)
			}
			union(a, g)
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	})
}

// linked returns the group of an earlier record that a's record names as
// an alias (or that names a's record), unless both are named by different
// CVEs.
func linked(byID map[string]*group, a *vuln.Advisory) *group {
	prefix := a.Namespace + "\x00" + a.Package + "\x00"
	for _, id := range append([]string{a.Name}, a.Aliases...) {
		g := byID[prefix+id]
		if g == nil {
			continue
		}
		if strings.HasPrefix(g.name, "CVE-") && strings.HasPrefix(a.Name, "CVE-") && g.name != a.Name {
			continue
		}
		return g
	}
	return nil
}

func key(a *vuln.Advisory) string {
	return a.Namespace + "\x00" + a.Package + "\x00" + a.Name
}

func mergeAliases(name string, own, extra []string) []string {
	out := slices.Clone(own)
	for _, a := range extra {
		if a != "" && a != name && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return slices.Clip(out)
}

// readRecord reads f into buf (reset first) and returns its bytes, valid
// until the next call with buf.
func readRecord(f *zip.File, buf *bytes.Buffer) ([]byte, error) {
	if f.UncompressedSize64 > maxRecord {
		return nil, fmt.Errorf("record of %d bytes, over the %d byte limit", f.UncompressedSize64, maxRecord)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf.Reset()
	buf.Grow(int(f.UncompressedSize64) + bytes.MinRead) // bounded just above
	if _, err := buf.ReadFrom(limit.Reader(r, maxRecord)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
