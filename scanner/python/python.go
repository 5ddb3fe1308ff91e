// Package python finds installed Python distributions from their core
// metadata: the METADATA file of a .dist-info folder (wheels, pip), the
// PKG-INFO of a .egg-info folder (setuptools develop and legacy installs) and
// the single-file .egg-info of old distutils installs.
package python

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "pypi"

// MaxHeader bounds how much of a metadata file is read: the header that ends
// at the first blank line, before the long description body. Real headers
// are a few KiB; old metadata versions fold the whole description into the
// header, which still fits many times over.
const MaxHeader = 1 << 20

// Scanner is the Python distribution scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "python" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner: NAME.dist-info/METADATA,
// NAME.egg-info/PKG-INFO and NAME.egg-info files, anywhere.
func (*Scanner) Wants(p string) bool {
	dir, base := path.Split(p)
	switch base {
	case "METADATA":
		return isInfoDir(dir, ".dist-info/")
	case "PKG-INFO":
		return isInfoDir(dir, ".egg-info/")
	}
	return len(base) > len(".egg-info") && strings.HasSuffix(base, ".egg-info")
}

// isInfoDir reports whether dir ("a/b/NAME.dist-info/") is a named folder
// with the suffix.
func isInfoDir(dir, suffix string) bool {
	if !strings.HasSuffix(dir, suffix) {
		return false
	}
	name := path.Base(dir)
	return len(name) > len(suffix)-1
}

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("python: %s: %w", f.Path, err)
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	name, version, err := parseHeader(f.R)
	if err != nil {
		return nil, fmt.Errorf("python: %s: %w", f.Path, err)
	}
	var missing []string
	if name == "" {
		missing = append(missing, "Name")
	}
	if version == "" {
		missing = append(missing, "Version")
	}
	if len(missing) > 0 {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("python: %s: no %s in the metadata header", f.Path, strings.Join(missing, " or "))}}, nil
	}
	return &scanner.Result{Packages: []*vuln.Package{{
		Name:      name,
		Version:   version,
		Kind:      vuln.KindBinary,
		Ecosystem: Ecosystem,
		Purl:      Purl(name, version),
		Path:      f.Path,
		PackageDB: f.Path,
	}}}, nil
}

// parseHeader returns the first Name and Version fields of the header, which
// ends at the first blank line or after MaxHeader bytes. Values that are not
// valid UTF-8 count as missing.
func parseHeader(r io.Reader) (name, version string, err error) {
	br := bufio.NewReaderSize(io.LimitReader(r, MaxHeader), 64<<10)
	for {
		line, rerr := br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			// A line too long for any field we keep: skip the rest of it.
			for errors.Is(rerr, bufio.ErrBufferFull) {
				_, rerr = br.ReadSlice('\n')
			}
			line = nil
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return "", "", rerr
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(line) > 0 && len(trimmed) == 0 {
			return name, version, nil // the blank line that ends the header
		}
		// Continuation lines begin with whitespace; the fields kept never
		// continue.
		if len(trimmed) > 0 && trimmed[0] != ' ' && trimmed[0] != '\t' {
			k, v, ok := bytes.Cut(trimmed, []byte(":"))
			if ok {
				// A lone CR ends a line for Python's email parser too.
				v, _, _ = bytes.Cut(v, []byte("\r"))
				v = bytes.TrimSpace(v)
				switch {
				case !validValue(v):
				case name == "" && strings.EqualFold(string(k), "Name"):
					name = string(v)
				case version == "" && strings.EqualFold(string(k), "Version"):
					version = string(v)
				}
			}
		}
		if rerr != nil || (name != "" && version != "") {
			return name, version, nil
		}
	}
}

// validValue reports whether v is valid UTF-8 without control characters.
func validValue(v []byte) bool {
	if !utf8.Valid(v) {
		return false
	}
	for _, r := range string(v) {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Purl is the package URL of a Python distribution, with the name
// normalized as the purl pypi type asks: lower case, "_" as "-".
func Purl(name, version string) string {
	n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	return packageurl.NewPackageURL(packageurl.TypePyPi, "", n, version, nil, "").ToString()
}
