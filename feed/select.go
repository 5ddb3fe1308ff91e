package feed

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// clairSets maps the updater set names of Clair v4's config
// (`updaters.sets`) to the feed that serves the same data here, so that a
// real Clair config starts unchanged. A name whose feed is not registered
// is skipped with a warning, never refused.
var clairSets = map[string]string{
	"rhel":       "redhat",
	"rhel-vex":   "redhat",
	"aws":        "amazon",
	"pyupio":     "osv", // PyPI advisories come from osv.dev's PyPI export
	"clair.cvss": "nvd",
	"clair.epss": "epss",
	"clair.kev":  "kev",
	"alma":       "osv",
	"rocky":      "osv",
	"mariner":    "mariner",
}

// noCounterpart are Clair set names with no feed here, and why.
var noCounterpart = map[string]string{
	"rhcc": "Red Hat container-first images are matched through their rpm content sets (redhat feed)",
}

// Select returns the registered feeds that names asks for, sorted and each
// once: every feed when names is nil, none when it is empty. A name is a
// feed's name or one of Clair v4's updater set names; a Clair name without
// a counterpart here is a warning, an unknown name an error naming it.
func Select(names []string) (feeds []Feed, warnings []string, err error) {
	if names == nil {
		return All(), nil, nil
	}
	seen := map[string]bool{}
	for _, raw := range names {
		n := strings.TrimSpace(raw)
		f, ok := Lookup(n)
		if !ok {
			target, alias := clairSets[n]
			if why, skip := noCounterpart[n]; skip {
				warnings = append(warnings, fmt.Sprintf("updater set %q has no feed of its own here: %s", n, why))
				continue
			}
			if !alias {
				return nil, warnings, fmt.Errorf("unknown feed %q (known: %s)", n, strings.Join(Names(), ", "))
			}
			if f, ok = Lookup(target); !ok {
				warnings = append(warnings, fmt.Sprintf("updater set %q: its counterpart feed %q is not in this binary; skipped", n, target))
				continue
			}
		}
		if !seen[f.Name()] {
			seen[f.Name()] = true
			feeds = append(feeds, f)
		}
	}
	sort.Slice(feeds, func(i, j int) bool { return feeds[i].Name() < feeds[j].Name() })
	return feeds, warnings, nil
}

// Names lists the registered feeds' names, sorted.
func Names() []string {
	var out []string
	for _, f := range All() {
		out = append(out, f.Name())
	}
	return out
}

// EnvURLs returns the URL overrides given in the environment as
// CLAIR_FEED_<NAME>=URL (NAME upper-cased, '-' as '_'), for the registered
// feeds; lookup is os.LookupEnv outside tests.
func EnvURLs(lookup func(string) (string, bool)) map[string]string {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	urls := map[string]string{}
	for _, f := range All() {
		if v, ok := lookup(EnvName(f.Name())); ok && v != "" {
			urls[f.Name()] = v
		}
	}
	return urls
}

// EnvName is the environment variable that overrides a feed's URL.
func EnvName(feed string) string {
	return "CLAIR_FEED_" + strings.ToUpper(strings.ReplaceAll(feed, "-", "_"))
}

// Configurable is implemented by feeds that take settings of their own from
// the server's config (`updaters.config.<name>`, the keys besides `url`).
// Configure decodes them with decode, which refuses unknown keys, and
// returns the configured feed: the registered value is left as it is, so
// registration stays side-effect free.
type Configurable interface {
	Configure(decode func(v any) error) (Feed, error)
}
