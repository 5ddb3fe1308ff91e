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
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/internal/redact"
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
