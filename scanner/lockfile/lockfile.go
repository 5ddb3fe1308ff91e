// Package lockfile finds the packages that a source tree's lock files pin,
// for `dir:` scans of a checkout that a CI pipeline runs before building:
// what the build is going to fetch and install.
//
// Files read, by base name:
//
//	go.mod             "go"        require lines, replace directives applied
//	package-lock.json  "npm"       lockfile v1 "dependencies" tree, v2/v3 "packages"
//	yarn.lock          "npm"       yarn classic (v1) and Berry (YAML)
//	pnpm-lock.yaml     "npm"       lockfile v5, v6 and v9 keys
//	poetry.lock        "pypi"
//	uv.lock            "pypi"
//	Pipfile.lock       "pypi"      "default" and "develop"
//	go.sum             "go"        the modules of a go.mod older than Go 1.17, whose go.mod lists only direct requirements
//	requirements.txt   "pypi"      name==version pins only; also requirements-*.txt, *-requirements.txt, requirements/*.txt; -r includes followed
//	Cargo.lock         "cargo"
//	Gemfile.lock       "rubygems"  the specs of the GEM and GIT sections
//	composer.lock      "composer"  "packages" and "packages-dev"
//
// Names are as osv.dev keys them: npm names with their @scope/, PyPI names as
// written (matching normalizes them, PEP 503), Go module paths, composer
// vendor/name. Versions are as the lock file writes them (Go versions keep
// their leading v), but for composer's, which lose it as scanner/php's do.
//
// Development dependencies (npm "dev", Pipfile "develop", composer
// "packages-dev", poetry's dev group) are reported like the others, marked
// Dev: the CI pipeline that runs the scan installs and runs them, and a lock
// file says nothing of where the built artifact ends up. Trivy leaves them
// out by default (--include-dev-deps); this scanner chooses the false
// positive over the missed vulnerability, and says which they are.
//
// Packages that come from the source tree itself and not from a registry
// are left out, since no advisory is about them: a go.mod's own module and
// modules replaced by a local folder, npm workspace folders and links, yarn
// and pnpm workspace:, link:, file: and portal: entries, uv's editable and
// virtual packages, poetry's directory and file sources, Cargo crates without
// a source, Gemfile.lock PATH gems. Packages fetched from git or a URL are
// kept, with the version their own manifest states.
//
// Lock files inside node_modules (a dependency's own lock file, not what is
// installed), vendor folders, site-packages, the Go module cache and Cargo's
// registry cache are not read. The files the npm and gobin scanners read are
// never wanted here.
package lockfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Ecosystems of the packages this scanner finds; the matcher keys
// advisories by them.
const (
	EcosystemGo       = "go"
	EcosystemNPM      = "npm"
	EcosystemPyPI     = "pypi"
	EcosystemCargo    = "cargo"
	EcosystemRubyGems = "rubygems"
	EcosystemComposer = "composer"
)

// MaxSize bounds one lock file. The largest real ones (a monorepo's
// package-lock.json or pnpm-lock.yaml) are a few tens of MiB; larger files
// are skipped with a warning.
const MaxSize = 64 << 20

// Bounds on one name or version; longer ones are not real and are dropped.
const (
	maxName    = 512
	maxVersion = 256
)

// Scanner is the lock file scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "lockfile" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "2" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// format is one kind of lock file.
type format struct {
	name      string // for messages: "package-lock.json"
	ecosystem string
	parse     func(b []byte, c *collector) error
}

// formats by base name.
var formats = map[string]*format{
	"go.mod":            {"go.mod", EcosystemGo, parseGoMod},
	"package-lock.json": {"package-lock.json", EcosystemNPM, parsePackageLock},
	"yarn.lock":         {"yarn.lock", EcosystemNPM, parseYarn},
	"pnpm-lock.yaml":    {"pnpm-lock.yaml", EcosystemNPM, parsePnpm},
	"poetry.lock":       {"poetry.lock", EcosystemPyPI, parsePoetry},
	"uv.lock":           {"uv.lock", EcosystemPyPI, parseUV},
	"Pipfile.lock":      {"Pipfile.lock", EcosystemPyPI, parsePipfile},
	"requirements.txt":  {"requirements.txt", EcosystemPyPI, parseRequirements},
	"Cargo.lock":        {"Cargo.lock", EcosystemCargo, parseCargo},
	"Gemfile.lock":      {"Gemfile.lock", EcosystemRubyGems, parseGemfile},
	"composer.lock":     {"composer.lock", EcosystemComposer, parseComposer},
	"go.sum":            {"go.sum", EcosystemGo, parseGoSum},
}

// formatOf is the format of the file at p: by base name, or a requirements
// file by the names projects give them.
func formatOf(p string) *format {
	base := path.Base(p)
	if fm := formats[base]; fm != nil {
		return fm
	}
	if strings.HasSuffix(base, ".txt") && (strings.HasPrefix(base, "requirements") ||
		strings.HasSuffix(base, "-requirements.txt") || strings.HasSuffix(base, "_requirements.txt") ||
		path.Base(path.Dir(p)) == "requirements") {
		return formats["requirements.txt"]
	}
	return nil
}

// skipDirs are folders whose lock files describe something else than the
// tree's own build: dependencies' sources, caches, installed packages.
var skipDirs = []string{
	"node_modules/", // a dependency's own lock files; scanner/npm reads what is installed
	".git/",
	"vendor/",        // composer, bundler and Go vendored dependencies
	"site-packages/", // installed Python distributions (scanner/python)
	"dist-packages/",
	"pkg/mod/",         // the Go module cache
	".cargo/registry/", // Cargo's crate sources
	".cargo/git/",
	"bundle/",    // installed gems: /usr/local/bundle/gems/NAME-V/ (vendor/bundle is under vendor/)
	"ruby/gems/", // system gems: usr/lib/ruby/gems/X/gems/NAME-V/
	".gem/",      // user gems: ~/.gem/ruby/X/gems/NAME-V/
	"bower_components/",
}

// Wants implements scanner.Scanner: the lock files named above, anywhere
// but under the folders in skipDirs.
func (*Scanner) Wants(p string) bool {
	if formatOf(p) == nil {
		return false
	}
	for _, d := range skipDirs {
		if strings.HasPrefix(p, d) || strings.Contains(p, "/"+d) {
			return false
		}
	}
	return true
}

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (res *scanner.Result, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lockfile: %s: %w", f.Path, err)
	}
	fm := formatOf(f.Path)
	c := newCollector(f.Path, fm)
	if fm == nil {
		c.warn("not a lock file this scanner reads")
		return c.result(), nil
	}
	if f.Size > MaxSize {
		c.warn("skipped: %d bytes, more than the %d a lock file may have", f.Size, MaxSize)
		return c.result(), nil
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	b, err := io.ReadAll(scanner.LimitReader(f.R, MaxSize))
	if errors.Is(err, scanner.ErrTooLarge) {
		c.warn("skipped: more than the %d bytes a lock file may have", MaxSize)
		return c.result(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("lockfile: %s: %w", f.Path, err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if err := parse(fm, b, c); err != nil {
		c.warn("not a valid %s: %s", fm.name, clipError(err))
	}
	return c.result(), nil
}

// parse runs the format's parser. A panic in a parser or in a library it
// uses becomes an error: a hostile file must not bring the indexer down.
func parse(fm *format, b []byte, c *collector) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.pkgs = nil
			err = fmt.Errorf("parser failed: %v", r)
		}
	}()
	return fm.parse(b, c)
}

// collector gathers one file's packages and warnings.
type collector struct {
	path    string
	fm      *format
	seen    map[[2]string]*vuln.Package
	pkgs    []*vuln.Package
	warns   []string
	facts   map[string]string
	invalid int // entries dropped for an unusable name or version
}

func newCollector(p string, fm *format) *collector {
	return &collector{path: p, fm: fm, seen: map[[2]string]*vuln.Package{}}
}

// fact records what the file told besides packages, for Combine.
func (c *collector) fact(k, v string) {
	if c.facts == nil {
		c.facts = map[string]string{}
	}
	c.facts[k] = v
}

// addDev records a development dependency. A package the file lists both
// ways stays a production one.
func (c *collector) addDev(name, version string) { c.record(name, version, true) }

// add records a package; an entry already recorded is not repeated.
func (c *collector) add(name, version string) { c.record(name, version, false) }

func (c *collector) record(name, version string, dev bool) {
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if !validField(name, maxName) || !validField(version, maxVersion) {
		c.invalid++
		return
	}
	k := [2]string{name, version}
	if p, ok := c.seen[k]; ok {
		p.Dev = p.Dev && dev
		return
	}
	p := &vuln.Package{
		Name:      name,
		Version:   version,
		Kind:      vuln.KindBinary,
		Ecosystem: c.fm.ecosystem,
		Purl:      Purl(c.fm.ecosystem, name, version),
		Path:      c.path,
		PackageDB: c.path,
		Dev:       dev,
	}
	c.seen[k] = p
	c.pkgs = append(c.pkgs, p)
}

// warn adds a warning naming the file.
func (c *collector) warn(format string, args ...any) {
	c.warns = append(c.warns, fmt.Sprintf("lockfile: %s: ", c.path)+fmt.Sprintf(format, args...))
}

func (c *collector) result() *scanner.Result {
	if c.invalid > 0 {
		c.warn("%d entries without a usable name or version skipped", c.invalid)
		c.invalid = 0
	}
	sort.Slice(c.pkgs, func(i, j int) bool {
		a, b := c.pkgs[i], c.pkgs[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
	return &scanner.Result{Packages: c.pkgs, Warnings: c.warns, Facts: c.facts}
}

// validField reports whether s can be a package name or version: not empty,
// not too long, valid UTF-8 without control characters or spaces.
func validField(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// clipError shortens a parser's error, which may quote the input, for a
// warning.
func clipError(err error) string {
	s := strings.ToValidUTF8(err.Error(), "")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	const n = 240
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// Purl is the package URL of a package of one of this scanner's ecosystems.
func Purl(ecosystem, name, version string) string {
	var typ, ns, n = "", "", name
	switch ecosystem {
	case EcosystemGo:
		typ = packageurl.TypeGolang
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			ns, n = name[:i], name[i+1:]
		}
	case EcosystemNPM:
		typ = packageurl.TypeNPM
		if strings.HasPrefix(name, "@") {
			if i := strings.IndexByte(name, '/'); i > 0 {
				ns, n = name[:i], name[i+1:]
			}
		}
	case EcosystemPyPI:
		typ = packageurl.TypePyPi
		n = strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	case EcosystemCargo:
		typ = packageurl.TypeCargo
	case EcosystemRubyGems:
		typ = packageurl.TypeGem
	case EcosystemComposer:
		typ = packageurl.TypeComposer
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, n = name[:i], name[i+1:]
		}
	default:
		return ""
	}
	return packageurl.NewPackageURL(typ, ns, n, version, nil, "").ToString()
}
