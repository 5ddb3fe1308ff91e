// Package dpkg finds the packages dpkg installed: the status database of
// Debian and Ubuntu images, and the one-file-per-package status.d folder that
// distroless images carry instead.
package dpkg

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Paths the scanner reads.
const (
	StatusPath = "var/lib/dpkg/status"
	StatusDir  = "var/lib/dpkg/status.d/"
)

// MaxSize bounds one status file. The largest real ones (full desktop
// installs, TeX Live) are a few MiB; anything near this is not a status file
// worth reading into an index.
const MaxSize = 256 << 20

// maxLine bounds one line. Long Depends and Provides lines of real packages
// run to tens of KiB; this leaves room for far more without letting one line
// take the whole file's worth of memory.
const maxLine = 4 << 20

// maxWarnings keeps a damaged database from flooding the index report.
const maxWarnings = 20

// Scanner is the dpkg package scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "dpkg" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner. In status.d, distroless tooling writes
// NAME beside NAME.md5sums (and some tools NAME.list); only NAME is a status
// paragraph. Hidden files are editor and tool leftovers.
func (*Scanner) Wants(path string) bool {
	if path == StatusPath {
		return true
	}
	name, ok := strings.CutPrefix(path, StatusDir)
	if !ok || name == "" || strings.ContainsRune(name, '/') || name[0] == '.' {
		return false
	}
	return !strings.HasSuffix(name, ".md5sums") && !strings.HasSuffix(name, ".list")
}

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if f.Size > MaxSize {
		// Not a status file any dpkg wrote: a warning, and the rest of
		// the layer is read.
		return &scanner.Result{Warnings: []string{fmt.Sprintf("dpkg: %s: skipped: %d bytes, more than the %d a status file may have", f.Path, f.Size, MaxSize)}}, nil
	}
	// In status.d a paragraph without Status is how distroless says
	// installed; in dpkg's own database it means dpkg never recorded one.
	pkgs, warns, err := parse(ctx, f.R, f.Path, f.Path != StatusPath, f.MaxPackages)
	if err != nil {
		return nil, err
	}
	return &scanner.Result{Packages: pkgs, Warnings: warns}, nil
}

// paragraph holds the fields of one stanza that the scanner keeps.
type paragraph struct {
	line                               int // where the paragraph starts
	pkg, version, arch, source, status string
	hasField                           bool
	seen                               uint8 // the kept fields present, by bit
}

// The kept fields, as bits of paragraph.seen.
const (
	fPackage uint8 = 1 << iota
	fVersion
	fArchitecture
	fSource
	fStatus
)

var kept = [...]struct {
	name string
	bit  uint8
}{{"Package", fPackage}, {"Version", fVersion}, {"Architecture", fArchitecture}, {"Source", fSource}, {"Status", fStatus}}

// parse reads a status file paragraph by paragraph, keeping only the fields
// it needs, so memory follows the largest line rather than the file. With
// maxPkgs > 0 it stops after that many packages, with a warning.
func parse(ctx context.Context, r io.Reader, path string, noStatusIsInstalled bool, maxPkgs int) ([]*vuln.Package, []string, error) {
	if r == nil {
		return nil, nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("dpkg: %s: %w", path, err)
	}
	errorf := func(line int, format string, args ...any) error {
		return fmt.Errorf("dpkg: %s: line %d: %s", path, line, fmt.Sprintf(format, args...))
	}
	var (
		pkgs       []*vuln.Package
		warns      []string
		dropped    int
		paragraphs int // with at least one field
		named      int // with a Package field
		firstLine  int
	)
	warn := func(line int, format string, args ...any) {
		if len(warns) < maxWarnings {
			warns = append(warns, fmt.Sprintf("dpkg: %s: line %d: %s", path, line, fmt.Sprintf(format, args...)))
		} else {
			dropped++
		}
	}
	var p paragraph
	end := func() {
		if !p.hasField {
			return
		}
		paragraphs++
		if paragraphs == 1 {
			firstLine = p.line
		}
		if p.seen&fPackage == 0 {
			return
		}
		named++
		if !installed(&p, noStatusIsInstalled) {
			if p.seen&fStatus == 0 {
				warn(p.line, "package %q has no Status field; not counted as installed", scanner.Clip(p.pkg))
			}
			return
		}
		if p.pkg == "" || p.version == "" {
			warn(p.line, "installed package %q has no name or no version; skipped", scanner.Clip(p.pkg))
			return
		}
		src, w := sourcePackage(p.source, p.version)
		if w != "" {
			warn(p.line, "package %s: %s", p.pkg, w)
		}
		if src.Name == "" {
			src.Name = p.pkg
		}
		pkgs = append(pkgs, &vuln.Package{
			Name:      p.pkg,
			Version:   p.version,
			Kind:      vuln.KindBinary,
			Source:    src,
			Arch:      p.arch,
			PackageDB: path,
			Ecosystem: "dpkg",
			Purl:      purl(p.pkg, p.version, p.arch),
		})
	}

	sc := bufio.NewScanner(scanner.LimitReader(r, MaxSize))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, fmt.Errorf("dpkg: %s: %w", path, err)
			}
		}
		// Bytes, not Text: most lines are descriptions and lists that
		// are looked at once and dropped.
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			end()
			p = paragraph{}
		case line[0] == ' ' || line[0] == '\t':
			switch {
			case p.hasField:
				// A continuation; dpkg also reads a whitespace-only
				// line here as part of the value, not as a break.
			case len(bytes.TrimLeft(line, " \t")) == 0:
				// Between paragraphs it can only be a break.
			default:
				return nil, nil, errorf(n, "continuation line outside a field")
			}
		default:
			i := bytes.IndexByte(line, ':')
			if i <= 0 {
				return nil, nil, errorf(n, "neither \"Field: value\", a continuation nor a blank line: %q", scanner.Clip(string(line)))
			}
			name := line[:i]
			if !validName(name) {
				return nil, nil, errorf(n, "invalid field name %q", scanner.Clip(string(name)))
			}
			if !p.hasField {
				if maxPkgs > 0 && len(pkgs) >= maxPkgs {
					warns = append(warns, fmt.Sprintf("dpkg: %s: line %d: more than %d packages; the rest not read", path, n, maxPkgs))
					return pkgs, warns, nil
				}
				p.line = n
				p.hasField = true
			}
			var bit uint8
			for _, k := range kept {
				if len(name) == len(k.name) && bytes.EqualFold(name, []byte(k.name)) {
					bit = k.bit
					break
				}
			}
			if bit == 0 {
				continue
			}
			if p.seen&bit != 0 {
				// dpkg refuses such a database; guessing which value
				// it meant could report the wrong version. Other
				// fields' duplicates change nothing read here.
				return nil, nil, errorf(n, "duplicate field %q in one paragraph", name)
			}
			p.seen |= bit
			value := string(bytes.TrimSpace(line[i+1:]))
			switch bit {
			case fPackage:
				p.pkg = value
			case fVersion:
				p.version = value
			case fArchitecture:
				p.arch = value
			case fSource:
				p.source = value
			case fStatus:
				p.status = value
			}
		}
	}
	if err := sc.Err(); err != nil {
		switch {
		case errors.Is(err, scanner.ErrTooLarge):
			return nil, nil, fmt.Errorf("dpkg: %s: larger than %d bytes", path, MaxSize)
		case errors.Is(err, bufio.ErrTooLong):
			return nil, nil, errorf(n+1, "line longer than %d bytes", maxLine)
		}
		return nil, nil, fmt.Errorf("dpkg: %s: %w", path, err)
	}
	end()
	if paragraphs > 0 && named == 0 {
		return nil, nil, errorf(firstLine, "no paragraph has a Package field; not a dpkg status file")
	}
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("dpkg: %s: %d more warnings", path, dropped))
	}
	return pkgs, warns, nil
}

// installed reads the Status field: "want flag status". Only a package dpkg
// finished installing has its files on disk; "deinstall ok config-files"
// and half-installed states are left out. A package on hold is installed.
func installed(p *paragraph, noStatusIsInstalled bool) bool {
	if p.seen&fStatus == 0 {
		return noStatusIsInstalled
	}
	f := strings.Fields(p.status)
	return len(f) == 3 && (f[0] == "install" || f[0] == "hold") && f[1] == "ok" && f[2] == "installed"
}

// sourcePackage reads "name" or "name (version)"; the feeds key on the
// source, whose version differs from the binary's after a binNMU or when a
// binary is built from an older source.
func sourcePackage(field, binVersion string) (*vuln.Package, string) {
	src := &vuln.Package{Kind: vuln.KindSource, Version: binVersion}
	if field == "" {
		return src, ""
	}
	name, rest, hasParen := strings.Cut(field, "(")
	words := strings.Fields(name)
	if len(words) > 0 {
		src.Name = words[0]
	}
	if len(words) != 1 {
		return src, fmt.Sprintf("Source %q is not \"name\" or \"name (version)\"", scanner.Clip(field))
	}
	if !hasParen {
		return src, ""
	}
	v, after, closed := strings.Cut(rest, ")")
	v = strings.TrimSpace(v)
	if !closed || strings.TrimSpace(after) != "" || v == "" || strings.ContainsAny(v, " \t") {
		return src, fmt.Sprintf("Source %q is not \"name\" or \"name (version)\"", scanner.Clip(field))
	}
	src.Version = v
	return src, ""
}

// validName follows deb822: printable US-ASCII but space and colon.
func validName(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// purl always says namespace "debian": the distribution is not known while
// one file is scanned (os-release is another scanner's file), and Ubuntu's
// packages are dpkg packages all the same. A reader who needs the vendor
// takes it from the report's distribution.
func purl(name, version, arch string) string {
	var q packageurl.Qualifiers
	if arch != "" {
		q = packageurl.QualifiersFromMap(map[string]string{"arch": arch})
	}
	u := packageurl.NewPackageURL(packageurl.TypeDebian, "debian", name, version, q, "")
	// The canonical form (the spec lowercases these names) keeps SBOM
	// consumers that compare purls as strings from seeing two packages.
	if err := u.Normalize(); err != nil {
		return packageurl.NewPackageURL(packageurl.TypeDebian, "debian", name, version, q, "").ToString()
	}
	return u.ToString()
}
