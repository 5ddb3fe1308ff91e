// Package dotnet finds the NuGet packages of .NET applications from the
// APP.deps.json the .NET SDK writes next to every published application:
// its "libraries" object lists each library as "Name/Version" with a type,
// and those of type "package" came from NuGet.
package dotnet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/version/nuget"
	"github.com/openclair/clair/vuln"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "nuget"

// MaxSize bounds one deps.json. Large ASP.NET applications' are a few MiB.
const MaxSize = 64 << 20

// Scanner is the .NET deps.json scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "dotnet" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner: NAME.deps.json anywhere.
func (*Scanner) Wants(p string) bool {
	base := path.Base(p)
	return len(base) > len(".deps.json") && strings.HasSuffix(base, ".deps.json")
}

// Package is one NuGet package of a deps.json.
type Package struct {
	Name, Version string
}

// FormatError says the input is not a deps.json.
type FormatError struct{ Err error }

func (e *FormatError) Error() string { return "not a deps.json: " + e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dotnet: %s: %w", f.Path, err)
	}
	warn := func(format string, args ...any) string {
		return fmt.Sprintf("dotnet: %s: ", f.Path) + fmt.Sprintf(format, args...)
	}
	if f.Size > MaxSize {
		return &scanner.Result{Warnings: []string{warn("skipped: %d bytes, more than the %d a deps.json may have", f.Size, MaxSize)}}, nil
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	pkgs, bad, err := Parse(scanner.LimitReader(f.R, MaxSize))
	if err != nil {
		var fe *FormatError
		switch {
		case errors.Is(err, scanner.ErrTooLarge):
			return &scanner.Result{Warnings: []string{warn("skipped: more than the %d bytes a deps.json may have", MaxSize)}}, nil
		case errors.As(err, &fe):
			return &scanner.Result{Warnings: []string{warn("%v", err)}}, nil
		}
		return nil, fmt.Errorf("dotnet: %s: %w", f.Path, err)
	}
	res := &scanner.Result{}
	for _, p := range pkgs {
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
	if len(bad) > 0 {
		res.Warnings = append(res.Warnings, warn("%d package libraries without a valid Name/Version key skipped, the first %q", len(bad), scanner.Clip(bad[0])))
	}
	return res, nil
}

// Parse reads a deps.json and returns its libraries of type "package",
// sorted by name and version, and the keys of the package libraries it
// could not read.
func Parse(r io.Reader) (pkgs []Package, bad []string, err error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	var doc struct {
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.NewDecoder(br).Decode(&doc); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, &FormatError{err}
		}
		return nil, nil, err
	}
	if doc.Libraries == nil {
		return nil, nil, &FormatError{errors.New(`no "libraries" object`)}
	}
	for key, lib := range doc.Libraries {
		if !strings.EqualFold(lib.Type, "package") {
			continue // "project", "reference", "runtimepack", ...
		}
		name, ver, ok := strings.Cut(key, "/")
		name, ver = strings.TrimSpace(name), strings.TrimSpace(ver)
		if !ok || !validName(name) {
			bad = append(bad, key)
			continue
		}
		if _, err := nuget.Parse(ver); err != nil {
			bad = append(bad, key)
			continue
		}
		pkgs = append(pkgs, Package{Name: name, Version: ver})
	}
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Version < pkgs[j].Version
	})
	sort.Strings(bad)
	return pkgs, bad, nil
}

// validName reports whether s is a NuGet package id: letters, digits, ".",
// "_" and "-", at most 100 characters.
func validName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Purl is the package URL of a NuGet package: pkg:nuget/Newtonsoft.Json@13.0.1.
func Purl(name, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeNuget, "", name, version, nil, "").ToString()
}
