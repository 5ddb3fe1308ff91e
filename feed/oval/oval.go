// Package oval reads OVAL definitions documents (the XML the RPM
// distributions publish their advisories in) and serves them as four feeds:
//
//	oracle   Oracle Linux ELSA      https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2
//	suse     SUSE and openSUSE Leap https://ftp.suse.com/pub/projects/security/oval/
//	photon   VMware Photon OS       https://packages.vmware.com/photon/photon_oval_definitions/
//	mariner  CBL-Mariner, Azure     https://raw.githubusercontent.com/microsoft/AzureLinuxVulnerabilityData/main/
//	         Linux
//
// A feed's URL is either one document (a file URL: the document is the whole
// feed) or a directory, under which the feed fetches its list of documents
// (Distro files); documents that are absent (404) are skipped. Documents are
// kept as served (plain, gzip or bzip2) in a tar snapshot named by their
// file names, which Mariner's namespaces come from.
//
// Reading (see reader.go and resolve.go): each document is read twice,
// first for its tests, objects and states, then one definition at a time.
// A definition's criteria become statements "in release R, on
// architectures A, package P is affected before version V", and each
// statement becomes one advisory per vulnerability the definition names:
//
//   - Namespace: from the release test's comment ("Oracle Linux 8 is
//     installed" → ol:8, "SUSE Linux Enterprise Server 15 SP5 is installed"
//     → sles:15.5, "openSUSE Leap 15.5 is installed" → opensuse-leap:15.5,
//     "Photon OS 3 is installed" → photon:3.0); Mariner and Azure Linux
//     definitions test no release, so the document's file name says it
//     (cbl-mariner-2.0-oval.xml → mariner:2.0, azurelinux-3.0-oval.xml →
//     azurelinux:3.0).
//   - Package: the rpminfo_object name, as the document names it: binary
//     packages for Oracle, SUSE and Photon, source packages for Mariner and
//     Azure Linux (Microsoft's documents name the spec, "Package glibc").
//   - Name: each CVE of the definition (<advisory><cve>, CVE references);
//     the definition's own advisory id (ELSA-2024-1234, PHSA-2020:00001)
//     goes in Aliases. A definition without CVEs is named by that id.
//   - Ranges/FixedIn: evr "less than v" → Fixed v; "less than or equal v" →
//     LastAffected v; "greater than (or equal) v" → Introduced v; "equals v"
//     → Versions. A zero epoch is dropped ("0:1.2-3" → "1.2-3").
//   - State: affected; unfixed when Microsoft says <patchable>false</patchable>
//     or only a lower bound is known; not affected for Microsoft's "Not
//     Applicable" and SUSE's "P is not affected" tests.
//   - Arches: the state's arch pattern ("(aarch64|ppc64le|s390x|x86_64)")
//     or Oracle's "Oracle Linux arch is x86_64" branch; when one fix applies
//     to every branch the lists are merged.
//   - Severity: the vendor's word (Oracle's IMPORTANT, SUSE's moderate,
//     Microsoft's High), normalized as Critical, High (important), Medium
//     (moderate), Low.
//
// What cannot be expressed is skipped or read as true, never guessed, and
// counted in Stats (logged after each Parse): ksplice-only fixes and
// unknown products drop their branch; signature tests, family tests and
// unknown test kinds are read as true.
package oval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/internal/date"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/internal/redact"
	"github.com/openclair/clair/vuln"
)

// Distro describes one vendor's OVAL documents.
type Distro struct {
	// Name is the feed's name.
	Name string
	// URL is the default URL: one document, or a directory holding Files.
	URL string
	// Files are the documents fetched from a directory URL, in order.
	Files []string
	// Release maps a release test's comment to a namespace.
	Release func(comment string) (ns string, ok bool)
	// FileNamespace maps a document's file name to the namespace of its
	// definitions that test no release; nil or "" for none.
	FileNamespace func(file string) string
}

func (d *Distro) release(comment string) (string, bool) {
	if d.Release == nil || comment == "" {
		return "", false
	}
	return d.Release(comment)
}

func (d *Distro) fileNS(file string) string {
	if d.FileNamespace == nil {
		return ""
	}
	return d.FileNamespace(path.Base(file))
}

var (
	oracleRelease  = regexp.MustCompile(`^Oracle Linux (\d+) is installed$`)
	oracleFile     = regexp.MustCompile(`^com\.oracle\.elsa-ol(\d+)\.xml`)
	photonRelease  = regexp.MustCompile(`^(?:VMware )?Photon OS (\d+)(?:\.(\d+))? is installed$`)
	photonFile     = regexp.MustCompile(`^com\.vmware\.phsa-photon(\d+)(?:\.(\d+))?\.xml`)
	suseRelease    = regexp.MustCompile(`^SUSE Linux Enterprise (?:Server|Server for SAP Applications|Desktop|High Performance Computing|Real Time|Micro|Module for [A-Za-z0-9 &+.-]+?) (\d+)(?:\.(\d+))?(?: SP(\d+))?(?:-[A-Z]+)? is installed$`)
	leapRelease    = regexp.MustCompile(`^openSUSE Leap (\d+\.\d+) is installed$`)
	marinerFile    = regexp.MustCompile(`^cbl-mariner-(\d+\.\d+)-oval\.xml`)
	azureLinuxFile = regexp.MustCompile(`^azurelinux-(\d+\.\d+)-oval\.xml`)
)

// The four distributions. Oracle publishes one document for every release
// (vunnel and Trivy read this one; com.oracle.elsa-olN.xml.bz2 are its
// per-release slices). SUSE publishes one document per SLES major release
// (every service pack inside) and one per Leap release. Photon and
// Microsoft publish one per release.
var (
	Oracle = &Distro{
		Name: "oracle",
		URL:  "https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2",
		Files: []string{
			"com.oracle.elsa-all.xml.bz2",
		},
		Release: func(c string) (string, bool) {
			if m := oracleRelease.FindStringSubmatch(c); m != nil {
				return "ol:" + m[1], true
			}
			return "", false
		},
		FileNamespace: func(f string) string {
			if m := oracleFile.FindStringSubmatch(f); m != nil {
				return "ol:" + m[1]
			}
			return ""
		},
	}
	SUSE = &Distro{
		Name: "suse",
		URL:  "https://ftp.suse.com/pub/projects/security/oval/",
		Files: []string{
			"suse.linux.enterprise.server.12.xml.gz",
			"suse.linux.enterprise.server.15.xml.gz",
			"opensuse.leap.15.3.xml.gz",
			"opensuse.leap.15.4.xml.gz",
			"opensuse.leap.15.5.xml.gz",
			"opensuse.leap.15.6.xml.gz",
		},
		Release: func(c string) (string, bool) {
			if m := suseRelease.FindStringSubmatch(c); m != nil {
				v := m[1]
				switch {
				case m[3] != "":
					v += "." + m[3] // 15 SP5
				case m[2] != "":
					v += "." + m[2] // Micro 5.3
				}
				return "sles:" + v, true
			}
			if m := leapRelease.FindStringSubmatch(c); m != nil {
				return "opensuse-leap:" + m[1], true
			}
			return "", false
		},
	}
	Photon = &Distro{
		Name: "photon",
		URL:  "https://packages.vmware.com/photon/photon_oval_definitions/",
		Files: []string{
			"com.vmware.phsa-photon1.xml",
			"com.vmware.phsa-photon2.xml",
			"com.vmware.phsa-photon3.xml",
			"com.vmware.phsa-photon4.xml",
			"com.vmware.phsa-photon5.xml",
		},
		Release: func(c string) (string, bool) {
			if m := photonRelease.FindStringSubmatch(c); m != nil {
				return "photon:" + m[1] + "." + or(m[2], "0"), true
			}
			return "", false
		},
		FileNamespace: func(f string) string {
			if m := photonFile.FindStringSubmatch(f); m != nil {
				return "photon:" + m[1] + "." + or(m[2], "0")
			}
			return ""
		},
	}
	Mariner = &Distro{
		Name: "mariner",
		URL:  "https://raw.githubusercontent.com/microsoft/AzureLinuxVulnerabilityData/main/",
		Files: []string{
			"cbl-mariner-1.0-oval.xml",
			"cbl-mariner-2.0-oval.xml",
			"azurelinux-3.0-oval.xml",
		},
		FileNamespace: func(f string) string {
			if m := marinerFile.FindStringSubmatch(f); m != nil {
				return "mariner:" + m[1]
			}
			if m := azureLinuxFile.FindStringSubmatch(f); m != nil {
				return "azurelinux:" + m[1]
			}
			return ""
		},
	}
)

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func init() {
	for _, d := range []*Distro{Oracle, SUSE, Photon, Mariner} {
		feed.Register(New(d))
	}
}

// Feed is the OVAL feed of one distribution.
type Feed struct {
	Distro *Distro
	// Log receives each Parse's summary of what was skipped; nil is
	// slog.Default().
	Log *slog.Logger
}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed of d.
func New(d *Distro) *Feed { return &Feed{Distro: d} }

// Name implements feed.Feed.
func (f *Feed) Name() string { return f.Distro.Name }

// DefaultURL implements feed.Feed.
func (f *Feed) DefaultURL() string { return f.Distro.URL }

// Stats counts what a Parse read and what it could not use.
type Stats struct {
	Documents   int
	Definitions int
	Advisories  int
	// Notes counts the constraints skipped or read as true, by kind.
	Notes map[string]int

	mu sync.Mutex
}

// maxNoteKinds bounds Notes: some notes quote the document.
const maxNoteKinds = 64

func (s *Stats) note(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Notes == nil {
		s.Notes = map[string]int{}
	}
	if _, ok := s.Notes[msg]; !ok && len(s.Notes) >= maxNoteKinds {
		msg = "other notes"
	}
	s.Notes[msg]++
}

// source is one document to fetch.
type source struct{ name, url string }

// sources lists the documents rawURL stands for.
func (f *Feed) sources(rawURL string) ([]source, error) {
	if p, ok := feed.FilePath(rawURL); ok {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		if !fi.IsDir() {
			return []source{{filepath.Base(p), rawURL}}, nil
		}
		var out []source
		for _, n := range f.Distro.Files {
			out = append(out, source{n, filepath.Join(p, n)})
		}
		return out, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if !strings.HasSuffix(u.Path, "/") {
		return []source{{path.Base(u.Path), rawURL}}, nil
	}
	var out []source
	for _, n := range f.Distro.Files {
		out = append(out, source{n, u.ResolveReference(&url.URL{Path: n}).String()})
	}
	return out, nil
}

// Fetch implements feed.Feed. The fingerprint is a JSON object of each
// document's feed.Get fingerprint (ETag, Last-Modified, SHA-256): when every
// document is unchanged Fetch returns feed.ErrUnchanged after one
// conditional request each; when one changed, the others are downloaded
// again, since the snapshot holds them all.
func (f *Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	name := f.Name()
	srcs, err := f.sources(rawURL)
	if err != nil {
		return "", err
	}
	prevFP := map[string]string{}
	if prev != "" && json.Unmarshal([]byte(prev), &prevFP) != nil {
		prevFP = map[string]string{}
	}
	tmp, err := feed.MkdirTemp("", "oval")
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer os.RemoveAll(tmp)

	type got struct {
		source
		file      string
		fp        string
		unchanged bool
	}
	var (
		gots    []*got
		fps     = map[string]string{}
		changed bool
	)
	for i, s := range srcs {
		g := &got{source: s, file: filepath.Join(tmp, fmt.Sprint(i))}
		fp, err := getFile(ctx, c, s.url, prevFP[s.name], g.file)
		switch {
		case errors.Is(err, feed.ErrUnchanged):
			g.unchanged, g.fp = true, prevFP[s.name]
		case feed.IsNotExist(err) && len(srcs) > 1:
			// A release the vendor does not (or no longer) publish.
			changed = changed || prevFP[s.name] != ""
			continue
		case err != nil:
			return "", fmt.Errorf("%s: %s: %w", name, s.name, err)
		default:
			g.fp = fp
			changed = true
		}
		fps[s.name] = g.fp
		gots = append(gots, g)
	}
	if len(gots) == 0 {
		return "", fmt.Errorf("%s: %s: none of the documents %s is there", name, redact.URL(rawURL), strings.Join(f.Distro.Files, ", "))
	}
	for k := range prevFP {
		if _, ok := fps[k]; !ok {
			changed = true // a document went away
		}
	}
	if !changed {
		return "", feed.ErrUnchanged
	}
	sw := snapshot.NewWriter(dst)
	for _, g := range gots {
		if g.unchanged {
			fp, err := getFile(ctx, c, g.url, "", g.file)
			if err != nil {
				return "", fmt.Errorf("%s: %s: %w", name, g.name, err)
			}
			fps[g.name] = fp
		}
		if err := sw.AddFile(g.name, g.file); err != nil {
			return "", fmt.Errorf("%s: writing snapshot: %w", name, err)
		}
	}
	if err := sw.Close(); err != nil {
		return "", fmt.Errorf("%s: writing snapshot: %w", name, err)
	}
	b, _ := json.Marshal(fps)
	return string(b), nil
}

func getFile(ctx context.Context, c *http.Client, u, prev, dst string) (string, error) {
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	fp, err := feed.GetRaw(ctx, c, u, prev, out)
	if cerr := out.Close(); err == nil && cerr != nil {
		return "", cerr
	}
	return fp, err
}

// Parse implements feed.Feed. snap is the tar Fetch wrote, or one document
// on its own (plain or compressed), whose definitions then need a release
// test for their namespace.
func (f *Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	st, err := f.ParseStats(ctx, snap, size, emit)
	if err != nil {
		return err
	}
	log := f.Log
	if log == nil {
		log = slog.Default()
	}
	if len(st.Notes) > 0 {
		keys := make([]string, 0, len(st.Notes))
		for k := range st.Notes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := []any{"feed", f.Name(), "documents", st.Documents, "definitions", st.Definitions, "advisories", st.Advisories}
		for _, k := range keys {
			attrs = append(attrs, k, st.Notes[k])
		}
		log.Info("oval: constraints skipped or read as true", attrs...)
	}
	return nil
}

// document is one OVAL document of a snapshot.
type document struct {
	name string
	data *io.SectionReader
}

// documents lists the snapshot's documents.
func documents(snap io.ReaderAt, size int64) ([]document, error) {
	if !snapshot.IsTar(snap) {
		return []document{{name: "", data: io.NewSectionReader(snap, 0, size)}}, nil
	}
	es, err := snapshot.Entries(snap, size)
	if err != nil {
		return nil, err
	}
	out := make([]document, 0, len(es))
	for _, e := range es {
		out = append(out, document{name: e.Name, data: e.Data})
	}
	if len(out) == 0 {
		return nil, errors.New("snapshot holds no documents")
	}
	return out, nil
}

// ParseStats is Parse returning what it counted.
func (f *Feed) ParseStats(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) (*Stats, error) {
	docs, err := documents(snap, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	st := &Stats{}
	for _, d := range docs {
		if err := f.parseDocument(ctx, d, st, emit); err != nil {
			return nil, err
		}
		st.Documents++
	}
	return st, nil
}

// maxDocument bounds one decompressed document. The largest real ones
// (SUSE's SLES 15, Oracle's elsa-all) are around a gigabyte; past this a
// compressed document is a bomb.
const maxDocument = 16 << 30

func (f *Feed) parseDocument(ctx context.Context, d document, st *Stats, emit func(*vuln.Advisory) error) error {
	label := d.name
	if label == "" {
		label = "snapshot"
	}
	fail := func(err error) error { return fmt.Errorf("%s: %s: %w", f.Name(), label, err) }
	open := func() (io.Reader, func(), error) {
		return decompress(io.NewSectionReader(d.data, 0, d.data.Size()))
	}
	r, done, err := open()
	if err != nil {
		return fail(err)
	}
	ix, err := readIndex(ctx, r)
	done()
	if err != nil {
		return fail(err)
	}
	r, done, err = open()
	if err != nil {
		return fail(err)
	}
	defer done()
	res := &resolver{ix: ix, dist: f.Distro, stats: st}
	fileNS := f.Distro.fileNS(d.name)
	err = readDefinitions(ctx, r, func(def *Definition) error {
		st.Definitions++
		switch strings.ToLower(def.Class) {
		case "", "patch", "vulnerability":
		default:
			st.note("definition of class " + scrub(def.Class) + " skipped")
			return nil
		}
		stmts, err := res.statements(def, fileNS)
		if errors.Is(err, errTooLarge) {
			st.note("definition whose criteria expand too far skipped")
			return nil
		}
		if err != nil {
			return fmt.Errorf("definition %s: %w", scrub(def.ID), err)
		}
		if len(stmts) == 0 {
			return nil
		}
		return f.emit(def, stmts, st, emit)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// decompress opens a document plain or compressed (gzip, bzip2, xz,
// zstd), told by its first bytes.
func decompress(r io.Reader) (io.Reader, func(), error) {
	dr, _, err := feed.Decompress(r, maxDocument)
	if err != nil {
		return nil, nil, err
	}
	return dr, func() { dr.Close() }, nil
}

var (
	cveRE      = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)
	advisoryRE = regexp.MustCompile(`^\s*([A-Z][A-Z0-9]*-\d{4}[-:]\d+)`)
)

// names returns the vulnerabilities a definition names, and its own
// advisory id ("" when that is a CVE).
func names(def *Definition) (cves []string, advisory string) {
	seen := map[string]bool{}
	add := func(s string) {
		for _, c := range cveRE.FindAllString(s, -1) {
			if !seen[c] {
				seen[c] = true
				cves = append(cves, c)
			}
		}
	}
	m := &def.Metadata
	for _, c := range m.Advisory.CVEs {
		add(c.ID)
	}
	for _, r := range m.References {
		if strings.Contains(strings.ToUpper(r.Source), "CVE") {
			add(r.RefID)
		}
	}
	if len(cves) == 0 {
		// Microsoft's and SUSE's titles are the CVE.
		if t := strings.TrimSpace(m.Title); strings.HasPrefix(t, "CVE-") {
			add(strings.Fields(t)[0])
		}
	}
	if a := advisoryRE.FindStringSubmatch(m.Title); a != nil && !cveRE.MatchString(a[1]) {
		advisory = a[1]
	}
	return cves, advisory
}

// NormalizeSeverity maps the vendors' severities to Clair's scale.
func NormalizeSeverity(s string) vuln.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return vuln.Critical
	case "important", "high":
		return vuln.High
	case "moderate", "medium":
		return vuln.Medium
	case "low":
		return vuln.Low
	case "none", "negligible":
		return vuln.Negligible
	}
	return vuln.Unknown
}

// maxDescription bounds the description stored per vulnerability: Oracle's
// are whole changelogs.
const maxDescription = 8 << 10

func (f *Feed) emit(def *Definition, stmts []statement, st *Stats, emit func(*vuln.Advisory) error) error {
	m := &def.Metadata
	cves, advID := names(def)
	ids := cves
	if len(ids) == 0 {
		id := advID
		if id == "" {
			id = strings.TrimSpace(def.ID)
		}
		if id == "" {
			st.note("definition without a name skipped")
			return nil
		}
		ids = []string{id}
	}
	sev := strings.TrimSpace(m.Advisory.Severity)
	if sev == "" {
		sev = strings.TrimSpace(m.Severity)
	}
	desc := strings.TrimSpace(m.Description)
	if len(desc) > maxDescription {
		desc = strings.ToValidUTF8(desc[:maxDescription], "") + "…"
	}
	var links []string
	seen := map[string]bool{}
	for _, r := range m.References {
		if u := strings.TrimSpace(r.RefURL); u != "" && !seen[u] {
			seen[u] = true
			links = append(links, u)
		}
	}
	issued := date.Parse(m.Advisory.Issued.Date)
	if issued.IsZero() {
		issued = date.Parse(m.AdvisoryDate)
	}
	patchable := strings.ToLower(strings.TrimSpace(m.Patchable))
	for _, s := range stmts {
		a := vuln.Advisory{
			Feed:               f.Name(),
			Namespace:          s.ns,
			Package:            s.name,
			VersionFormat:      "rpm",
			Arches:             s.arches,
			Severity:           sev,
			NormalizedSeverity: NormalizeSeverity(sev),
			Description:        desc,
			Links:              links,
			Issued:             issued,
		}
		switch {
		case s.notAffected || patchable == "not applicable":
			a.State = vuln.StateNotAffected
		case s.fixed != "":
			a.State = vuln.StateAffected
			a.Ranges = []vuln.Range{{Introduced: s.intro, Fixed: s.fixed}}
			a.FixedIn = s.fixed
		case s.last != "":
			a.State = vuln.StateAffected
			a.Ranges = []vuln.Range{{Introduced: s.intro, LastAffected: s.last}}
		case s.eq != "":
			a.State = vuln.StateAffected
			a.Versions = []string{s.eq}
		case s.intro != "":
			a.State = vuln.StateUnfixed
			a.Ranges = []vuln.Range{{Introduced: s.intro}}
		default:
			st.note("package test without a version bound skipped")
			continue
		}
		if patchable == "false" && s.fixed == "" && a.State == vuln.StateAffected {
			// "No patch is available currently": the bound is the
			// version known affected, not a fix.
			a.State = vuln.StateUnfixed
		}
		for _, id := range ids {
			cp := a
			cp.Name = id
			if advID != "" && advID != id {
				cp.Aliases = []string{advID}
			}
			if err := emit(&cp); err != nil {
				return err
			}
			st.Advisories++
		}
	}
	return nil
}
