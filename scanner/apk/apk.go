// Package apk finds the packages apk installed on Alpine and its
// derivatives, from apk's database of installed packages.
package apk

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// InstalledPath is apk's database of installed packages.
const InstalledPath = "lib/apk/db/installed"

// MaxSize bounds the database. It lists every file of every package, so a
// large image's runs to a few MiB; far beyond that it is not apk's.
const MaxSize = 256 << 20

// maxLine bounds one line: the longest real ones are dependency lists of a
// few KiB.
const maxLine = 1 << 20

// maxWarnings keeps a damaged database from flooding the index report.
const maxWarnings = 20

// Scanner is the apk package scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "apk" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner.
func (*Scanner) Wants(path string) bool { return path == InstalledPath }

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if f.Size > MaxSize {
		// Not a database any apk wrote: a warning, and the rest of the
		// layer is read.
		return &scanner.Result{Warnings: []string{fmt.Sprintf("apk: %s: skipped: %d bytes, more than the %d an installed database may have", f.Path, f.Size, MaxSize)}}, nil
	}
	pkgs, warns, err := parse(ctx, f.R, f.Path, f.MaxPackages)
	if err != nil {
		return nil, err
	}
	return &scanner.Result{Packages: pkgs, Warnings: warns}, nil
}

// record holds the fields of one package that the scanner keeps.
type record struct {
	line                        int // where the record starts
	name, version, arch, origin string
	hasName, hasField           bool
}

// parse reads the database record by record: "X:value" lines, a blank line
// between packages. Only the package's own fields are kept; the file lists
// (F:, R:, Z:, a:, M:) make up most of the file and are skipped as they come.
// With maxPkgs > 0, reading stops after that many packages, with a warning:
// a million-record database costs what maxPkgs records do.
func parse(ctx context.Context, r io.Reader, path string, maxPkgs int) ([]*vuln.Package, []string, error) {
	if r == nil {
		return nil, nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("apk: %s: %w", path, err)
	}
	errorf := func(line int, format string, args ...any) error {
		return fmt.Errorf("apk: %s: line %d: %s", path, line, fmt.Sprintf(format, args...))
	}
	var (
		pkgs      []*vuln.Package
		warns     []string
		dropped   int
		records   int // with at least one field
		named     int // with a P: line
		firstLine int
	)
	warn := func(line int, format string, args ...any) {
		if len(warns) < maxWarnings {
			warns = append(warns, fmt.Sprintf("apk: %s: line %d: %s", path, line, fmt.Sprintf(format, args...)))
		} else {
			dropped++
		}
	}
	var rec record
	end := func() {
		if !rec.hasField {
			return
		}
		records++
		if records == 1 {
			firstLine = rec.line
		}
		if !rec.hasName {
			return
		}
		named++
		if rec.name == "" || rec.version == "" {
			warn(rec.line, "package %q has no name or no version; skipped", scanner.Clip(rec.name))
			return
		}
		// Alpine's secdb names origin packages; a package built from
		// its own APKBUILD may leave o: out.
		origin := rec.origin
		if origin == "" {
			origin = rec.name
		}
		pkgs = append(pkgs, &vuln.Package{
			Name:      rec.name,
			Version:   rec.version,
			Kind:      vuln.KindBinary,
			Source:    &vuln.Package{Name: origin, Version: rec.version, Kind: vuln.KindSource},
			Arch:      rec.arch,
			PackageDB: path,
			Ecosystem: "apk",
			Purl:      purl(rec.name, rec.version, rec.arch),
		})
	}

	sc := bufio.NewScanner(scanner.LimitReader(r, MaxSize))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, fmt.Errorf("apk: %s: %w", path, err)
			}
		}
		// Bytes, not Text: most lines are file entries that are
		// looked at once and dropped.
		line := sc.Bytes()
		if len(bytes.TrimLeft(line, " \t")) == 0 {
			end()
			rec = record{}
			continue
		}
		if len(line) < 2 || line[1] != ':' || !isLetter(line[0]) {
			return nil, nil, errorf(n, "not a \"X:value\" line: %q", scanner.Clip(string(line)))
		}
		if !rec.hasField {
			if maxPkgs > 0 && len(pkgs) >= maxPkgs {
				warns = append(warns, fmt.Sprintf("apk: %s: line %d: more than %d packages; the rest not read", path, n, maxPkgs))
				return pkgs, warns, nil
			}
			rec.line = n
			rec.hasField = true
		}
		switch line[0] {
		case 'P':
			if rec.hasName {
				// A lost blank line would merge two packages; apk
				// would keep the second name with the first's fields.
				return nil, nil, errorf(n, "second P: line in one record")
			}
			rec.name, rec.hasName = value(line), true
		case 'V':
			rec.version = value(line)
		case 'A':
			rec.arch = value(line)
		case 'o':
			rec.origin = value(line)
		}
	}
	if err := sc.Err(); err != nil {
		switch {
		case errors.Is(err, scanner.ErrTooLarge):
			return nil, nil, fmt.Errorf("apk: %s: larger than %d bytes", path, MaxSize)
		case errors.Is(err, bufio.ErrTooLong):
			return nil, nil, errorf(n+1, "line longer than %d bytes", maxLine)
		}
		return nil, nil, fmt.Errorf("apk: %s: %w", path, err)
	}
	end()
	if records > 0 && named == 0 {
		return nil, nil, errorf(firstLine, "no record has a P: line; not an apk installed database")
	}
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("apk: %s: %d more warnings", path, dropped))
	}
	return pkgs, warns, nil
}

func value(line []byte) string { return string(bytes.TrimSpace(line[2:])) }

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// purl always says namespace "alpine": the distribution is not known while
// one file is scanned, and the report's distribution says which one it is.
func purl(name, version, arch string) string {
	var q packageurl.Qualifiers
	if arch != "" {
		q = packageurl.QualifiersFromMap(map[string]string{"arch": arch})
	}
	u := packageurl.NewPackageURL(packageurl.TypeApk, "alpine", name, version, q, "")
	// The canonical form (the spec lowercases these names) keeps SBOM
	// consumers that compare purls as strings from seeing two packages.
	if err := u.Normalize(); err != nil {
		return packageurl.NewPackageURL(packageurl.TypeApk, "alpine", name, version, q, "").ToString()
	}
	return u.ToString()
}
