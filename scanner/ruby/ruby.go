// Package ruby finds installed Ruby gems from the gemspecs RubyGems writes
// on install: GEM_HOME/specifications/NAME-VERSION.gemspec (and
// specifications/default/ for the default gems bundled with Ruby), under
// any gems folder: usr/local/bundle, usr/lib/ruby/gems/3.x,
// var/lib/gems/2.x, vendor/bundle/ruby/3.x, ...
//
// The gemspec is Ruby code written by Gem::Specification#to_ruby; it is
// read without running it: the `NAME.name = "..."` and `NAME.version =
// "..."` assignments of the `Gem::Specification.new do |NAME|` block, with
// the "# stub: NAME VERSION PLATFORM PATHS" comment as a fallback.
package ruby

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/version/rubygems"
	"github.com/openclair/clair/vuln"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "rubygems"

// MaxSize bounds one gemspec. Installed gemspecs are a few KiB (the largest
// real ones, with long file lists, well under 100 KiB).
const MaxSize = 4 << 20

// maxLine bounds one line kept for parsing; longer lines (file lists) are
// skipped.
const maxLine = 64 << 10

// Scanner is the RubyGems scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "ruby" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner: */specifications/*.gemspec and
// */specifications/default/*.gemspec.
func (*Scanner) Wants(p string) bool {
	dir, base := path.Split(p)
	if len(base) <= len(".gemspec") || !strings.HasSuffix(base, ".gemspec") {
		return false
	}
	dir = strings.TrimSuffix(dir, "default/")
	return dir == "specifications/" || strings.HasSuffix(dir, "/specifications/")
}

var (
	// Gem::Specification.new do |s| (also with braces, or a name and
	// version argument).
	newRE = regexp.MustCompile(`Gem::Specification\.new\b.*?(?:do|\{)\s*\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*\|`)
	// "# stub: rack 2.2.3 ruby lib"
	stubRE = regexp.MustCompile(`^#\s*stub:\s+(\S+)\s+(\S+)`)
	// A Ruby string literal, optionally frozen: "x", 'x', %q{x}, %q(x),
	// "x".freeze, Gem::Version.new("x").
	literalRE = regexp.MustCompile(`^(?:Gem::Version\.new\(\s*)?(?:"([^"\\]*)"|'([^'\\]*)'|%q\{([^}]*)\}|%q\(([^)]*)\)|%q\[([^\]]*)\]|%q<([^>]*)>)`)
	// A gem name as RubyGems accepts it.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ruby: %s: %w", f.Path, err)
	}
	warn := func(format string, args ...any) (*scanner.Result, error) {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("ruby: %s: ", f.Path) + fmt.Sprintf(format, args...)}}, nil
	}
	if f.Size > MaxSize {
		return warn("skipped: %d bytes, more than the %d a gemspec may have", f.Size, MaxSize)
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	name, ver, err := Parse(scanner.LimitReader(f.R, MaxSize))
	switch {
	case errors.Is(err, scanner.ErrTooLarge):
		return warn("skipped: more than the %d bytes a gemspec may have", MaxSize)
	case errors.Is(err, errNoSpec):
		return warn("%v", err)
	case err != nil:
		return nil, fmt.Errorf("ruby: %s: %w", f.Path, err)
	}
	if !nameRE.MatchString(name) {
		return warn("not a gem name: %q", scanner.Clip(name))
	}
	if _, err := rubygems.Parse(ver); err != nil || strings.TrimSpace(ver) == "" {
		return warn("%s: not a gem version: %q", name, scanner.Clip(ver))
	}
	return &scanner.Result{Packages: []*vuln.Package{{
		Name:      name,
		Version:   ver,
		Kind:      vuln.KindBinary,
		Ecosystem: Ecosystem,
		Purl:      Purl(name, ver),
		Path:      f.Path,
		PackageDB: f.Path,
	}}}, nil
}

var errNoSpec = errors.New("no gem name and version found")

// Parse reads a gemspec's name and version without running it. It returns
// errNoSpec when it finds neither in the specification block nor in the
// stub comment.
func Parse(r io.Reader) (name, version string, err error) {
	br := bufio.NewReaderSize(r, maxLine)
	var (
		block              string // the block variable, once the block began
		stubName, stubVers string
		stubOK             bool
	)
	for {
		line, rerr := readLine(br)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return "", "", rerr
		}
		line = strings.TrimSpace(line)
		switch {
		case !stubOK && block == "" && strings.HasPrefix(line, "#"):
			if m := stubRE.FindStringSubmatch(line); m != nil {
				stubName, stubVers, stubOK = m[1], m[2], true
			}
		case block == "":
			if m := newRE.FindStringSubmatch(line); m != nil {
				block = m[1]
			}
		default:
			if v, ok := assignment(line, block, "name"); ok && name == "" {
				name = v
			} else if v, ok := assignment(line, block, "version"); ok && version == "" {
				version = v
			}
		}
		if name != "" && version != "" {
			return name, version, nil
		}
		if rerr != nil {
			break
		}
	}
	if stubOK {
		if name == "" {
			name = stubName
		}
		if version == "" {
			version = stubVers
		}
		return name, version, nil
	}
	if name != "" || version != "" {
		return "", "", fmt.Errorf("%w: name %q, version %q", errNoSpec, scanner.Clip(name), scanner.Clip(version))
	}
	return "", "", errNoSpec
}

// readLine reads one line; a line longer than maxLine comes back empty.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		return "", err
	}
	return string(line), err
}

// assignment reads `VAR.FIELD = LITERAL` and returns the literal's value.
func assignment(line, block, field string) (string, bool) {
	rest, ok := strings.CutPrefix(line, block+"."+field)
	if !ok {
		return "", false
	}
	rest = strings.TrimLeft(rest, " \t")
	if !strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "==") {
		return "", false
	}
	rest = strings.TrimLeft(rest[1:], " \t")
	m := literalRE.FindStringSubmatch(rest)
	if m == nil {
		return "", false
	}
	for _, g := range m[1:] {
		if g != "" {
			return strings.TrimSpace(g), true
		}
	}
	return "", false
}

// Purl is the package URL of a gem: pkg:gem/rack@2.2.3.
func Purl(name, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeGem, "", name, version, nil, "").ToString()
}
