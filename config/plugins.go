package config

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/scanner"
)

// DecodePlugin decodes a plugin's own settings, as the config file's
// decoder left them (maps of any), into v, a pointer to the plugin's type.
// Unknown keys are an error naming where the settings sit ("updaters.config.wolfi")
// and the key, like the rest of the file's.
func DecodePlugin(where string, raw any, v any) error {
	if raw == nil {
		return nil
	}
	b, err := yaml.Marshal(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	// The settings were re-encoded: the decoder's lines are not the
	// file's, so errors name the key path under where instead.
	if partial, err := decodeStrict(b, v, where, false); err != nil {
		if !partial {
			return fmt.Errorf("%s: %w", where, err)
		}
		return err
	}
	return nil
}

// Feeds returns the feeds `updaters.sets` selects (Clair's set names are
// mapped to the feeds that serve their data; see feed.Select), each
// configured from `updaters.config.<name>` when it takes settings, and the
// URL overrides: `updaters.config.<name>.url`, then CLAIR_FEED_<NAME> from
// lookup (os.LookupEnv) over it. Warnings say what a Clair config names
// that has no counterpart here.
func (c *Config) Feeds(lookup func(string) (string, bool)) (feeds []feed.Feed, urls map[string]string, warnings []string, err error) {
	sel, warnings, err := feed.Select(c.Updaters.Sets)
	if err != nil {
		return nil, nil, warnings, fmt.Errorf("updaters.sets: %w", err)
	}
	urls = map[string]string{}
	for name, uc := range c.Updaters.Config {
		if uc.URL != "" {
			urls[name] = uc.URL
		}
	}
	for name, u := range feed.EnvURLs(lookup) {
		urls[name] = u
	}
	for _, f := range sel {
		if cf, ok := f.(feed.Configurable); ok {
			where := "updaters.config." + f.Name()
			extra := map[string]any{}
			if uc, ok := c.Updaters.Config[f.Name()]; ok && uc.Extra != nil {
				extra = uc.Extra
			}
			configured, err := cf.Configure(func(v any) error { return DecodePlugin(where, extra, v) })
			if err != nil {
				return nil, nil, warnings, err
			}
			f = configured
		}
		feeds = append(feeds, f)
	}
	return feeds, urls, warnings, nil
}

// Scanners returns every registered scanner, each configured from
// `indexer.scanner.<kind>.<name>` (Clair's layout: kind is package, dist or
// repo) when it takes settings. Settings for a scanner that is not
// registered, or that takes none, are a warning naming them (Clair's own
// configs name Clair's scanners, and must start); a configurable scanner's
// unknown key is an error.
func (c *Config) Scanners() ([]scanner.Scanner, []string, error) {
	given := map[string]any{} // scanner name -> settings
	where := map[string]string{}
	for kind, v := range c.Indexer.Scanner {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("indexer.scanner.%s: want a map of scanner names to settings", kind)
		}
		for name, s := range m {
			given[name] = s
			where[name] = "indexer.scanner." + kind + "." + name
		}
	}
	var out []scanner.Scanner
	var warnings []string
	for _, s := range scanner.All() {
		raw, ok := given[s.Name()]
		delete(given, s.Name())
		if cs, can := s.(scanner.Configurable); can {
			w := where[s.Name()]
			if w == "" {
				w = "indexer.scanner." + s.Name()
			}
			if raw == nil {
				raw = map[string]any{}
			}
			configured, err := cs.Configure(func(v any) error { return DecodePlugin(w, raw, v) })
			if err != nil {
				return nil, nil, err
			}
			s = configured
		} else if ok && raw != nil {
			if m, isMap := raw.(map[string]any); !isMap || len(m) > 0 {
				warnings = append(warnings, fmt.Sprintf("%s: scanner %q takes no settings; ignored", where[s.Name()], s.Name()))
			}
		}
		out = append(out, s)
	}
	var unknown []string
	for n := range given {
		unknown = append(unknown, where[n])
	}
	sort.Strings(unknown)
	for _, w := range unknown {
		warnings = append(warnings, w+": no such scanner in this binary; ignored")
	}
	return out, warnings, nil
}
