// Package php finds the Composer packages installed in a vendor folder,
// from the vendor/composer/installed.json Composer writes on install: a
// list of packages (Composer 1) or an object holding it under "packages"
// (Composer 2).
package php

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "composer"

// MaxSize bounds one installed.json. A large application's (a few hundred
// packages with their autoload maps and descriptions) is a few MiB.
const MaxSize = 64 << 20

// Scanner is the Composer scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "php" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

const wanted = "vendor/composer/installed.json"

// Wants implements scanner.Scanner: vendor/composer/installed.json at any
// depth (an application's vendor folder, Composer's global one).
func (*Scanner) Wants(p string) bool {
	return p == wanted || strings.HasSuffix(p, "/"+wanted)
}

// pkg is the part of an installed package the scanner reads.
type pkg struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Package is one installed package of an installed.json.
type Package struct {
	Name, Version string
}

// nameRE is a Packagist package name: vendor/package, lowercase
// alphanumerics with ".", "_" and "-" separators (Composer's
// ValidatingArrayLoader also admits upper case for old packages).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[_.-]?[A-Za-z0-9]+)*/[A-Za-z0-9](?:(?:[_.]|-{1,2})?[A-Za-z0-9]+)*$`)

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("php: %s: %w", f.Path, err)
	}
	warn := func(format string, args ...any) string {
		return fmt.Sprintf("php: %s: ", f.Path) + fmt.Sprintf(format, args...)
	}
	if f.Size > MaxSize {
		return &scanner.Result{Warnings: []string{warn("skipped: %d bytes, more than the %d an installed.json may have", f.Size, MaxSize)}}, nil
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	pkgs, err := Parse(scanner.LimitReader(f.R, MaxSize))
	if err != nil {
		if errors.Is(err, scanner.ErrTooLarge) {
			return &scanner.Result{Warnings: []string{warn("skipped: more than the %d bytes an installed.json may have", MaxSize)}}, nil
		}
		var bad *FormatError
		if errors.As(err, &bad) {
			return &scanner.Result{Warnings: []string{warn("%v", err)}}, nil
		}
		return nil, fmt.Errorf("php: %s: %w", f.Path, err)
	}
	res := &scanner.Result{}
	skipped := 0
	for _, p := range pkgs {
		if !nameRE.MatchString(p.Name) || p.Version == "" || !validVersion(p.Version) {
			skipped++
			continue
		}
		res.Packages = append(res.Packages, &vuln.Package{
			Name:      p.Name,
			Version:   p.Version,
			Kind:      vuln.KindBinary,
			Ecosystem: Ecosystem,
			Purl:      Purl(p.Name, p.Version),
			Path:      f.Path,
			PackageDB: f.Path,
		})
	}
	if skipped > 0 {
		res.Warnings = append(res.Warnings, warn("%d packages without a valid name and version skipped", skipped))
	}
	return res, nil
}

// validVersion refuses control characters and absurd lengths.
func validVersion(v string) bool {
	if len(v) > 256 {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// FormatError says the input is not an installed.json.
type FormatError struct{ Err error }

func (e *FormatError) Error() string { return "not a Composer installed.json: " + e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// Parse reads an installed.json of Composer 1 or 2. Versions lose a leading
// "v" before a digit ("v5.4.20" → "5.4.20"): Packagist's tags keep it, but
// the advisories of osv.dev's Packagist records (from GHSA, which strips
// it) and Packagist's own normalized versions do not. Branch versions
// ("dev-main") are kept as they are.
func Parse(r io.Reader) ([]Package, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	var raw json.RawMessage
	if err := json.NewDecoder(br).Decode(&raw); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &FormatError{err}
		}
		return nil, err
	}
	var list []json.RawMessage
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, &FormatError{err}
		}
	case '{':
		var doc struct {
			Packages []json.RawMessage `json:"packages"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, &FormatError{err}
		}
		if doc.Packages == nil {
			return nil, &FormatError{errors.New(`no "packages" list`)}
		}
		list = doc.Packages
	default:
		return nil, &FormatError{errors.New("neither a list nor an object")}
	}
	out := make([]Package, 0, len(list))
	for _, m := range list {
		var p pkg
		if err := json.Unmarshal(m, &p); err != nil {
			out = append(out, Package{}) // counted as skipped
			continue
		}
		out = append(out, Package{Name: strings.TrimSpace(p.Name), Version: TrimV(strings.TrimSpace(p.Version))})
	}
	return out, nil
}

// TrimV drops a leading "v" or "V" before a digit.
func TrimV(v string) string {
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

// Purl is the package URL of a Composer package:
// pkg:composer/guzzlehttp/psr7@1.8.3.
func Purl(name, version string) string {
	ns, n, _ := strings.Cut(name, "/")
	return packageurl.NewPackageURL(packageurl.TypeComposer, ns, n, version, nil, "").ToString()
}
