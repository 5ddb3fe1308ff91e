package vuln

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// The ecosystems this module ships: a Package's Ecosystem, and for language
// ecosystems the namespace their advisories live in. Use these constants
// rather than the strings, so that a typo does not compile.
const (
	EcosystemDpkg     = "dpkg"
	EcosystemAPK      = "apk"
	EcosystemRPM      = "rpm"
	EcosystemGo       = "go"
	EcosystemPyPI     = "pypi"
	EcosystemNPM      = "npm"
	EcosystemMaven    = "maven"
	EcosystemRubyGems = "rubygems"
	EcosystemCargo    = "cargo"
	EcosystemNuGet    = "nuget"
	EcosystemComposer = "composer"
)

// Ecosystem describes a package ecosystem to the matcher: which version
// scheme (package version's Name) compares its versions, and whether its
// advisories live in a namespace named after the ecosystem whatever the
// distribution (language packages), or in the distribution's namespace.
type Ecosystem struct {
	Name          string
	VersionFormat string
	Language      bool
}

var (
	ecoMu      sync.RWMutex
	ecosystems = map[string]Ecosystem{}
	// namespacers map a distribution's ID (os-release ID, lower case) to
	// the function naming its namespace, for distributions that plugins add.
	namespacers = map[string]func(*Distribution) string{}
)

func init() {
	for _, e := range []Ecosystem{
		{EcosystemDpkg, "dpkg", false},
		{EcosystemAPK, "apk", false},
		{EcosystemRPM, "rpm", false},
		{EcosystemGo, "semver", true},
		{EcosystemPyPI, "pep440", true},
		{EcosystemNPM, "npm", true},
		{EcosystemMaven, "maven", true},
		{EcosystemRubyGems, "rubygems", true},
		{EcosystemCargo, "cargo", true},
		{EcosystemNuGet, "nuget", true},
		{EcosystemComposer, "composer", true},
	} {
		RegisterEcosystem(e)
	}
}

// RegisterEcosystem makes an ecosystem known to the matcher, so that a
// scanner plugin's packages of that ecosystem are matched with its version
// scheme. It panics on an empty name or format, or a duplicate name, as the
// other registries do.
func RegisterEcosystem(e Ecosystem) {
	if e.Name == "" || e.VersionFormat == "" {
		panic(fmt.Sprintf("vuln: RegisterEcosystem of %+v: name and version format are needed", e))
	}
	ecoMu.Lock()
	defer ecoMu.Unlock()
	if _, dup := ecosystems[e.Name]; dup {
		panic(fmt.Sprintf("vuln: RegisterEcosystem called twice for %q", e.Name))
	}
	ecosystems[e.Name] = e
}

// LookupEcosystem returns the registered ecosystem of that name.
func LookupEcosystem(name string) (Ecosystem, bool) {
	ecoMu.RLock()
	defer ecoMu.RUnlock()
	e, ok := ecosystems[name]
	return e, ok
}

// Ecosystems lists the registered ecosystems, sorted by name.
func Ecosystems() []Ecosystem {
	ecoMu.RLock()
	defer ecoMu.RUnlock()
	out := make([]Ecosystem, 0, len(ecosystems))
	for _, e := range ecosystems {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsLanguage reports whether eco is a language ecosystem, not a
// distribution's package database.
func IsLanguage(eco string) bool {
	e, ok := LookupEcosystem(eco)
	return ok && e.Language
}

// RegisterNamespace makes Namespace name the namespace of distributions
// whose ID is did (os-release ID, compared case-insensitively), for a
// distribution this module does not know: a feed plugin's advisories carry
// that namespace. It panics on a nil function or a duplicate ID, and on an
// ID this module maps itself.
func RegisterNamespace(did string, f func(*Distribution) string) {
	did = strings.ToLower(did)
	if f == nil || did == "" {
		panic("vuln: RegisterNamespace of a nil function or empty ID")
	}
	if builtinNamespace(&Distribution{DID: did, VersionID: "1"}) != "" {
		panic(fmt.Sprintf("vuln: RegisterNamespace for %q, which this module maps itself", did))
	}
	ecoMu.Lock()
	defer ecoMu.Unlock()
	if _, dup := namespacers[did]; dup {
		panic(fmt.Sprintf("vuln: RegisterNamespace called twice for %q", did))
	}
	namespacers[did] = f
}

func pluginNamespace(d *Distribution) string {
	ecoMu.RLock()
	f := namespacers[strings.ToLower(d.DID)]
	ecoMu.RUnlock()
	if f == nil {
		return ""
	}
	return f(d)
}
