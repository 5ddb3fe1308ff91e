package match

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/vuln"
)

// A Java archive without META-INF/maven metadata (Spring's jars, built with
// Gradle, and Debian's repackaged jars) names its artifact but not its group:
// the scanner reports "spring-beans", while the feeds key Maven advisories on
// "org.springframework:spring-beans", so Spring4Shell would never be found.
// When exactly one group publishes the artifact in the stored advisories,
// that group is taken; an artifact several groups publish is left alone, and
// a warning says so.

// PackageNamer is implemented by stores that list the package names a
// namespace has advisories for.
type PackageNamer interface {
	PackageNames(ctx context.Context, namespace string) ([]string, error)
}

// maxGroupsShown bounds the groups an ambiguity warning lists.
const maxGroupsShown = 5

// groupIndex maps a Maven artifact to the groups the advisories publish it
// under, built from one PackageNames read per feed generation.
type groupIndex struct {
	mu     sync.Mutex
	gen    string
	groups map[string][]string
}

// ArtifactGroups maps each artifact of a list of Maven package names
// ("group:artifact") to its groups, sorted; names without a group are
// skipped.
func ArtifactGroups(names []string) map[string][]string {
	out := map[string][]string{}
	for _, n := range names {
		g, a, ok := strings.Cut(n, ":")
		if !ok || g == "" || a == "" {
			continue
		}
		out[a] = append(out[a], g)
	}
	for a, gs := range out {
		slices.Sort(gs)
		out[a] = slices.Compact(gs)
	}
	return out
}

// artifactGroups returns the artifact→groups map of the stored Maven
// advisories, from the cache while no feed changed; nil when the store
// cannot list names.
func (m *Matcher) artifactGroups(ctx context.Context) (map[string][]string, error) {
	pn, ok := m.Store.(PackageNamer)
	if !ok {
		return nil, nil
	}
	gen, cacheable, err := m.generation(ctx)
	if err != nil {
		return nil, err
	}
	c := &m.groups
	if cacheable {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.groups != nil && c.gen == gen {
			return c.groups, nil
		}
	}
	names, err := pn.PackageNames(ctx, vuln.EcosystemMaven)
	if err != nil {
		return nil, err
	}
	groups := ArtifactGroups(names)
	if cacheable {
		c.gen, c.groups = gen, groups
	}
	return groups, nil
}

// recoverGroups gives the Maven candidates found without a group the group
// their artifact has in the advisories, when it has exactly one, and shows it
// in the report's copy of the package.
func (m *Matcher) recoverGroups(ctx context.Context, cands []*candidate, vr *vuln.VulnerabilityReport) error {
	var bare []*candidate
	for _, c := range cands {
		if !strings.Contains(c.name, ":") && c.name != "" {
			bare = append(bare, c)
		}
	}
	if len(bare) == 0 {
		return nil
	}
	groups, err := m.artifactGroups(ctx)
	if err != nil {
		return fmt.Errorf("match: maven groups: %w", err)
	}
	if groups == nil {
		return nil
	}
	cloned := false
	for _, c := range bare {
		gs := groups[c.name]
		switch {
		case len(gs) == 1:
			if !cloned {
				// The report's map is the index report's until now.
				vr.Packages, cloned = maps.Clone(vr.Packages), true
			}
			p := *c.pkg
			p.Name = gs[0] + ":" + c.name
			p.Purl = packageurl.NewPackageURL(packageurl.TypeMaven, gs[0], c.name, p.Version, nil, "").ToString()
			vr.Packages[c.id] = &p
			c.name, c.pkg = p.Name, &p
		case len(gs) > 1:
			shown := gs[:min(len(gs), maxGroupsShown)]
			more := ""
			if len(gs) > len(shown) {
				more = fmt.Sprintf(" and %d more", len(gs)-len(shown))
			}
			m.logger().WarnContext(ctx, "maven artifact without a group not matched: several groups publish it",
				"artifact", c.name, "version", c.pkg.Version, "path", c.pkg.Path,
				"groups", strings.Join(shown, ", ")+more)
		}
	}
	return nil
}

func (m *Matcher) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
