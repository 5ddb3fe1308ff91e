// Package amazon is the Amazon Linux Security Center (ALAS) feed, read from
// the yum repositories' own metadata: each release's core repository lists
// its mirrors in mirror.list, a mirror's repodata/repomd.xml locates
// updateinfo.xml.gz, and updateinfo's <update> elements are the ALAS
// advisories with the packages that fix them.
//
// The feed's URL is a space-separated list of RELEASE=URL pairs, one per
// release: RELEASE is "2018.03" (Amazon Linux AMI), "2" or "2023", and URL
// is a mirror.list, a repository root (ending in "/", holding
// repodata/repomd.xml) or an updateinfo.xml(.gz) itself; file:// URLs and
// absolute paths work too. DefaultURL lists the mirror lists Trivy and vuls
// read.
//
// Mapping of an <update> to advisories: one per CVE it references (Name the
// CVE, Aliases the ALAS id) per binary package of its pkglist (Package the
// rpm name, FixedIn its epoch:version-release with a zero epoch left out,
// Arches the architectures the pkglist gives that version for, source rpms
// left out); an update without CVEs is one advisory named by its ALAS id.
// Namespace "amzn:" + RELEASE; Severity the update's (critical, important,
// medium, low → Critical, High, Medium, Low). Only type="security" updates
// are read.
package amazon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/internal/date"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/internal/redact"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "amazon"

// DefaultURL lists each release's mirror list.
const DefaultURL = "2018.03=http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list" +
	" 2=https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list" +
	" 2023=https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list"

// Bounds on what Fetch holds in memory: a mirror list and a repomd.xml are
// a few kilobytes.
const maxSmall = 1 << 20

// maxUpdateinfo bounds a decompressed updateinfo.xml (AL2's is ~60 MB).
const maxUpdateinfo = 4 << 30

var releaseRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func init() { feed.Register(New()) }

// Feed is the ALAS feed.
type Feed struct{}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{} }

// Name implements feed.Feed.
func (*Feed) Name() string { return Name }

// DefaultURL implements feed.Feed.
func (*Feed) DefaultURL() string { return DefaultURL }

// release is one RELEASE=URL pair.
type release struct{ name, url string }

func parseReleases(s string) ([]release, error) {
	var out []release
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		name, u, ok := strings.Cut(f, "=")
		if !ok || !releaseRE.MatchString(name) || u == "" {
			return nil, fmt.Errorf("amazon: %q: want RELEASE=URL (2=https://…/mirror.list)", redactPair(f))
		}
		if seen[name] {
			return nil, fmt.Errorf("amazon: release %s given twice", name)
		}
		seen[name] = true
		out = append(out, release{name, u})
	}
	if len(out) == 0 {
		return nil, errors.New("amazon: no RELEASE=URL pairs in the URL")
	}
	return out, nil
}

// redactPair redacts the URL of a RELEASE=URL pair.
func redactPair(s string) string {
	if name, u, ok := strings.Cut(s, "="); ok {
		return name + "=" + redact.URL(u)
	}
	return redact.URL(s)
}

// located is where a release's updateinfo is, and what identifies it.
type located struct {
	url      string
	checksum string // repomd's sha256 of the compressed file; "" when unknown
}

// Fetch implements feed.Feed. Each release costs a mirror list and a
// repomd.xml request; the fingerprint is the updateinfo checksums repomd.xml
// gives (a direct updateinfo URL is fingerprinted by feed.Get), so an
// unchanged feed is found without downloading updateinfo. The snapshot is a
// tar of RELEASE/updateinfo.xml[.gz], each as served and checked against
// repomd's checksum.
func (f *Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	rels, err := parseReleases(rawURL)
	if err != nil {
		return "", err
	}
	prevFP := map[string]string{}
	if prev != "" && json.Unmarshal([]byte(prev), &prevFP) != nil {
		prevFP = map[string]string{}
	}
	locs := make([]located, len(rels))
	fps := map[string]string{}
	for i, r := range rels {
		loc, err := locate(ctx, c, r.url)
		if err != nil {
			return "", fmt.Errorf("amazon: %s: %w", r.name, err)
		}
		locs[i] = loc
		if loc.checksum != "" {
			fps[r.name] = "sha256:" + loc.checksum
		}
	}
	tmp, err := feed.MkdirTemp("", "amazon")
	if err != nil {
		return "", fmt.Errorf("amazon: %w", err)
	}
	defer os.RemoveAll(tmp)
	changed := len(prevFP) != len(rels)
	files := make([]string, len(rels))
	for i, r := range rels {
		if fps[r.name] != "" {
			changed = changed || fps[r.name] != prevFP[r.name]
			continue
		}
		// No checksum to compare: download now, feed.Get fingerprints it.
		files[i] = filepath.Join(tmp, r.name)
		fp, err := download(ctx, c, locs[i], prevFP[r.name], files[i])
		switch {
		case errors.Is(err, feed.ErrUnchanged):
			files[i] = ""
			fps[r.name] = prevFP[r.name]
		case err != nil:
			return "", fmt.Errorf("amazon: %s: %w", r.name, err)
		default:
			fps[r.name] = fp
			changed = true
		}
	}
	if !changed {
		return "", feed.ErrUnchanged
	}
	sw := snapshot.NewWriter(dst)
	for i, r := range rels {
		if files[i] == "" {
			files[i] = filepath.Join(tmp, r.name)
			fp, err := download(ctx, c, locs[i], "", files[i])
			if err != nil {
				return "", fmt.Errorf("amazon: %s: %w", r.name, err)
			}
			if locs[i].checksum == "" {
				fps[r.name] = fp
			}
		}
		name := r.name + "/updateinfo.xml"
		if strings.HasSuffix(locs[i].url, ".gz") {
			name += ".gz"
		}
		if err := sw.AddFile(name, files[i]); err != nil {
			return "", fmt.Errorf("amazon: writing snapshot: %w", err)
		}
	}
	if err := sw.Close(); err != nil {
		return "", fmt.Errorf("amazon: writing snapshot: %w", err)
	}
	b, _ := json.Marshal(fps)
	return string(b), nil
}

// download fetches the updateinfo and checks it against repomd's checksum.
func download(ctx context.Context, c *http.Client, loc located, prev, file string) (string, error) {
	out, err := os.Create(file)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fp, err := feed.GetRaw(ctx, c, loc.url, prev, io.MultiWriter(out, h))
	if cerr := out.Close(); err == nil && cerr != nil {
		return "", cerr
	}
	if err != nil {
		return "", err
	}
	if loc.checksum != "" && !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), loc.checksum) {
		// A mirror caught mid-sync serves a repomd.xml and an updateinfo
		// of different generations; a retry later gets a consistent pair.
		return "", fmt.Errorf("%s: sha256 %x, repomd.xml says %s", redact.URL(loc.url), h.Sum(nil), loc.checksum)
	}
	return fp, nil
}

// getSmall reads a small document (mirror list, repomd.xml) into memory.
func getSmall(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := feed.Get(ctx, c, u, "", limit.Writer(&buf, maxSmall)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// locate follows a release URL to its updateinfo.
func locate(ctx context.Context, c *http.Client, u string) (located, error) {
	base := strings.TrimSuffix(strings.TrimSuffix(u, ".gz"), "/")
	switch {
	case strings.HasSuffix(base, ".xml"):
		return located{url: u}, nil
	case strings.HasSuffix(u, "mirror.list"):
		b, err := getSmall(ctx, c, u)
		if err != nil {
			return located{}, err
		}
		m, err := firstMirror(b)
		if err != nil {
			return located{}, fmt.Errorf("%s: %w", redact.URL(u), err)
		}
		return fromRepo(ctx, c, m)
	}
	return fromRepo(ctx, c, u)
}

// firstMirror returns the first URL of a mirror list.
func firstMirror(b []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if pu, err := url.Parse(l); err == nil && (pu.Scheme == "http" || pu.Scheme == "https" || pu.Scheme == "file") {
			return l, nil
		}
		return "", fmt.Errorf("mirror list line %q is not a URL", l)
	}
	return "", errors.New("empty mirror list")
}

// repomd is the part of repodata/repomd.xml the feed reads.
type repomd struct {
	Data []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
	} `xml:"data"`
}

// fromRepo reads a repository's repomd.xml for its updateinfo.
func fromRepo(ctx context.Context, c *http.Client, root string) (located, error) {
	if p, ok := feed.FilePath(root); ok {
		root = (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
	}
	base, err := url.Parse(root)
	if err != nil {
		return located{}, err
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		base.RawPath = ""
	}
	mdURL := base.ResolveReference(&url.URL{Path: "repodata/repomd.xml"})
	b, err := getSmall(ctx, c, mdURL.String())
	if err != nil {
		return located{}, err
	}
	var md repomd
	if err := xml.Unmarshal(b, &md); err != nil {
		return located{}, fmt.Errorf("%s: %w", mdURL.Redacted(), err)
	}
	for _, d := range md.Data {
		if d.Type != "updateinfo" {
			continue
		}
		href := strings.TrimSpace(d.Location.Href)
		if href == "" {
			return located{}, fmt.Errorf("%s: updateinfo without a location", mdURL.Redacted())
		}
		ref, err := url.Parse(href)
		if err != nil || ref.IsAbs() || ref.Host != "" || strings.HasPrefix(ref.Path, "/") || slices.Contains(strings.Split(ref.Path, "/"), "..") {
			// A location outside the repository is not something a
			// mirror may point a scanner at.
			return located{}, fmt.Errorf("%s: updateinfo location %q is not a path inside the repository", mdURL.Redacted(), href)
		}
		loc := located{url: base.ResolveReference(ref).String()}
		if strings.EqualFold(d.Checksum.Type, "sha256") {
			loc.checksum = strings.ToLower(strings.TrimSpace(d.Checksum.Value))
		}
		return loc, nil
	}
	return located{}, fmt.Errorf("%s: no updateinfo data", mdURL.Redacted())
}

// Parse implements feed.Feed: snap is the tar Fetch wrote.
func (f *Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	n := 0
	err := snapshot.Walk(ctx, snap, size, func(e snapshot.Entry) error {
		rel := path.Dir(e.Name)
		if !releaseRE.MatchString(rel) {
			return fmt.Errorf("%s: not RELEASE/updateinfo.xml", e.Name)
		}
		if err := ParseUpdateinfo(ctx, "amzn:"+rel, e.Data, emit); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("amazon: %w", err)
	}
	if n == 0 {
		return errors.New("amazon: snapshot holds no updateinfo")
	}
	return nil
}

// update is one <update> of updateinfo.xml.
type update struct {
	Type     string `xml:"type,attr"`
	ID       string `xml:"id"`
	Title    string `xml:"title"`
	Severity string `xml:"severity"`
	Desc     string `xml:"description"`
	Issued   struct {
		Date string `xml:"date,attr"`
	} `xml:"issued"`
	Refs []struct {
		Href string `xml:"href,attr"`
		ID   string `xml:"id,attr"`
		Type string `xml:"type,attr"`
	} `xml:"references>reference"`
	Pkgs []struct {
		Name    string `xml:"name,attr"`
		Epoch   string `xml:"epoch,attr"`
		Version string `xml:"version,attr"`
		Release string `xml:"release,attr"`
		Arch    string `xml:"arch,attr"`
	} `xml:"pkglist>collection>package"`
}

// ParseUpdateinfo reads one updateinfo.xml (plain, gzip, bzip2, xz or zstd) and emits the
// advisories of namespace ns, one <update> in memory at a time.
func ParseUpdateinfo(ctx context.Context, ns string, r io.Reader, emit func(*vuln.Advisory) error) error {
	dr, _, err := feed.Decompress(r, maxUpdateinfo)
	if err != nil {
		return err
	}
	defer dr.Close()
	r = dr
	d := xml.NewDecoder(r)
	d.Strict = true
	root := false
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			l, _ := d.InputPos()
			return fmt.Errorf("line %d: %w", l, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !root {
			if se.Name.Local != "updates" {
				return fmt.Errorf("root element is <%s>, want <updates>", se.Name.Local)
			}
			root = true
			continue
		}
		if se.Name.Local != "update" {
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		var u update
		l, _ := d.InputPos()
		if err := d.DecodeElement(&u, &se); err != nil {
			return fmt.Errorf("line %d: <update>: %w", l, err)
		}
		if err := emitUpdate(ns, &u, emit); err != nil {
			return fmt.Errorf("line %d: update %s: %w", l, clip(u.ID), err)
		}
	}
	if !root {
		return errors.New("no <updates> element")
	}
	return nil
}

var cveRE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// NormalizeSeverity maps ALAS severities to Clair's scale.
func NormalizeSeverity(s string) vuln.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return vuln.Critical
	case "important":
		return vuln.High
	case "medium", "moderate":
		return vuln.Medium
	case "low":
		return vuln.Low
	}
	return vuln.Unknown
}

// alasLink is the ALAS page of an id: ALAS-2018-939 (AMI),
// ALAS2-2023-2000 (AL2), ALAS2023-2023-126 (AL2023).
func alasLink(id string) string {
	switch {
	case strings.HasPrefix(id, "ALAS2023-"):
		return "https://alas.aws.amazon.com/AL2023/ALAS-" + strings.TrimPrefix(id, "ALAS2023-") + ".html"
	case strings.HasPrefix(id, "ALAS2-"):
		return "https://alas.aws.amazon.com/AL2/ALAS-" + strings.TrimPrefix(id, "ALAS2-") + ".html"
	case strings.HasPrefix(id, "ALAS-"):
		return "https://alas.aws.amazon.com/" + id + ".html"
	}
	return ""
}

func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// maxDescription bounds the stored description.
const maxDescription = 8 << 10

func emitUpdate(ns string, u *update, emit func(*vuln.Advisory) error) error {
	if !strings.EqualFold(u.Type, "security") {
		return nil
	}
	id := strings.TrimSpace(u.ID)
	if id == "" {
		return errors.New("<id> is empty")
	}
	var cves, links []string
	if l := alasLink(id); l != "" {
		links = append(links, l)
	}
	for _, r := range u.Refs {
		rid := strings.TrimSpace(r.ID)
		if strings.EqualFold(r.Type, "cve") && cveRE.MatchString(rid) && !slices.Contains(cves, rid) {
			cves = append(cves, rid)
		}
		if h := strings.TrimSpace(r.Href); h != "" && !slices.Contains(links, h) {
			links = append(links, h)
		}
	}
	names := cves
	if len(names) == 0 {
		names = []string{id}
	}
	// One statement per package name and fixed version, with the
	// architectures the update ships it for.
	type fix struct{ name, evr string }
	arches := map[fix][]string{}
	var order []fix
	for i, p := range u.Pkgs {
		name := strings.TrimSpace(p.Name)
		if name == "" || p.Version == "" {
			return fmt.Errorf("pkglist package %d: name or version is empty", i)
		}
		arch := strings.TrimSpace(p.Arch)
		if arch == "src" || arch == "nosrc" {
			continue
		}
		evr := p.Version
		if p.Release != "" {
			evr += "-" + p.Release
		}
		if e := strings.TrimSpace(p.Epoch); e != "" && e != "0" {
			evr = e + ":" + evr
		}
		k := fix{name, evr}
		if _, ok := arches[k]; !ok {
			order = append(order, k)
		}
		if arch != "" && !slices.Contains(arches[k], arch) {
			arches[k] = append(arches[k], arch)
		}
	}
	sev := strings.TrimSpace(u.Severity)
	desc := strings.TrimSpace(u.Desc)
	if len(desc) > maxDescription {
		desc = strings.ToValidUTF8(desc[:maxDescription], "") + "…"
	}
	issued := date.Parse(u.Issued.Date)
	for _, k := range order {
		as := arches[k]
		sort.Strings(as)
		for _, n := range names {
			a := &vuln.Advisory{
				Feed:               Name,
				Name:               n,
				Namespace:          ns,
				Package:            k.name,
				VersionFormat:      "rpm",
				State:              vuln.StateAffected,
				Ranges:             []vuln.Range{{Fixed: k.evr}},
				FixedIn:            k.evr,
				Arches:             as,
				Severity:           sev,
				NormalizedSeverity: NormalizeSeverity(sev),
				Description:        desc,
				Links:              links,
				Issued:             issued,
			}
			if n != id {
				a.Aliases = []string{id}
			}
			if err := emit(a); err != nil {
				return err
			}
		}
	}
	return nil
}
