// Package registered lists what this binary's registries hold: scanners,
// feeds, version schemes, ecosystems and notification deliverers, as their packages registered them
// in init(). `clairctl plugins` prints it and the server logs it at start,
// so that a custom binary shows what it was built with. It imports no
// plugin itself (package plugins does that).
package registered

import (
	"sort"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// Plugin is one registered extension.
type Plugin struct {
	Kind    string `json:"kind"` // "scanner", "feed", "version", "ecosystem"
	Name    string `json:"name"`
	Version string `json:"version,omitempty"` // a scanner's version
	// Detail is the scanner's kind, the feed's default URL, or the
	// ecosystem's version scheme.
	Detail string `json:"detail,omitempty"`
}

// extra are registries that live in packages this one must not import
// (they import it, or would pull their dependencies into every binary):
// they add themselves with Add.
var extra []func() []Plugin

// Add makes List include what f lists; registries call it from init().
func Add(f func() []Plugin) { extra = append(extra, f) }

// List returns every registered plugin, by kind then name.
func List() []Plugin {
	var out []Plugin
	for _, s := range scanner.All() {
		out = append(out, Plugin{Kind: "scanner", Name: s.Name(), Version: s.Version(), Detail: string(s.Kind())})
	}
	for _, f := range feed.All() {
		out = append(out, Plugin{Kind: "feed", Name: f.Name(), Detail: f.DefaultURL()})
	}
	for _, n := range version.Names() {
		out = append(out, Plugin{Kind: "version", Name: n})
	}
	for _, n := range notify.DelivererNames() {
		out = append(out, Plugin{Kind: "deliverer", Name: n})
	}
	for _, e := range vuln.Ecosystems() {
		out = append(out, Plugin{Kind: "ecosystem", Name: e.Name, Detail: e.VersionFormat})
	}
	for _, f := range extra {
		out = append(out, f()...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}
