// Package gobin finds the Go modules compiled into Go executables, from the
// build information the Go linker embeds (what `go version -m` prints): the
// main module, every dependency as built (replacements applied) and the
// standard library as the module "stdlib".
package gobin

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "go"

// StdlibName is the module name under which the Go standard library is
// reported, as osv.dev's Go ecosystem names it.
const StdlibName = "stdlib"

// DevelVersion is the version Go records for a main module built from a
// working tree rather than fetched at a version. Such a package is kept in
// the result (it says which code is in the binary) but no advisory range can
// match it.
const DevelVersion = "(devel)"

// MaxSize bounds the executables the scanner reads. Larger files are skipped
// with a warning.
const MaxSize = 512 << 20

// MaxInMemory is the largest executable read into memory; larger ones (up to
// MaxSize) are spilled to a temporary file, since debug/buildinfo needs random
// access.
const MaxInMemory = 64 << 20

// minSize is below the smallest executable the Go linker has ever produced;
// smaller files are not worth the read.
const minSize = 1 << 10

// buildInfoMagic starts the build information blob of every Go executable
// since Go 1.13.
var buildInfoMagic = []byte("\xff Go buildinf:")

// Scanner is the Go executable scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "gobin" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "2" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner: see scanner.MaybeExecutable.
func (*Scanner) Wants(p string) bool { return scanner.MaybeExecutable(p) }

// Sniff implements scanner.Sniffer: only executables are read.
func (*Scanner) Sniff(_ string, head []byte) bool { return isExecutable(head) }

// RandomAccess implements scanner.RandomAccess: debug/buildinfo reads the
// few sections it needs at their offsets, so an indexed executable is
// never held whole in memory.
func (*Scanner) RandomAccess() {}

// isExecutable reports whether the first bytes are those of an executable
// format debug/buildinfo reads: ELF, PE, Mach-O (thin and fat), XCOFF.
func isExecutable(b []byte) bool {
	switch {
	case len(b) < 4:
		return false
	case bytes.HasPrefix(b, []byte("\x7fELF")),
		bytes.HasPrefix(b, []byte("MZ")),
		bytes.HasPrefix(b, []byte("\xfe\xed\xfa")),
		bytes.HasPrefix(b[1:], []byte("\xfa\xed\xfe")),
		bytes.HasPrefix(b, []byte("\xca\xfe\xba\xbe")),
		bytes.HasPrefix(b, []byte("\xca\xfe\xba\xbf")),
		bytes.HasPrefix(b, []byte{0x01, 0xdf}),
		bytes.HasPrefix(b, []byte{0x01, 0xf7}):
		return true
	}
	return false
}

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gobin: %s: %w", f.Path, err)
	}
	if f.R == nil || (f.Size > 0 && f.Size < minSize) {
		return &scanner.Result{}, nil
	}
	head := make([]byte, 4)
	n, err := io.ReadFull(f.R, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("gobin: %s: %w", f.Path, err)
	}
	if !isExecutable(head[:n]) {
		return &scanner.Result{}, nil
	}
	if f.Size > MaxSize {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("gobin: %s: skipped: %d bytes, more than the %d an executable may have", f.Path, f.Size, MaxSize)}}, nil
	}
	if f.RA != nil {
		ra := io.NewSectionReader(f.RA, 0, f.Size)
		return parse(f.Path, ra, func() bool { return containsMagic(ra, f.Size) }), nil
	}
	r := io.MultiReader(bytes.NewReader(head[:n]), f.R)
	if f.Size > MaxInMemory {
		return scanSpilled(ctx, f, r)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxInMemory+1))
	if err != nil {
		return nil, fmt.Errorf("gobin: %s: %w", f.Path, err)
	}
	if len(b) > MaxInMemory {
		// The size said otherwise: read on into a temporary file.
		return scanSpilled(ctx, f, io.MultiReader(bytes.NewReader(b), r))
	}
	return parse(f.Path, bytes.NewReader(b), func() bool { return bytes.Contains(b, buildInfoMagic) }), nil
}

// scanSpilled copies an executable too large for memory to a temporary file.
func scanSpilled(ctx context.Context, f scanner.File, r io.Reader) (*scanner.Result, error) {
	tmp, err := os.CreateTemp("", "clair-gobin-*")
	if err != nil {
		return nil, fmt.Errorf("gobin: %s: %w", f.Path, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	n, err := io.Copy(tmp, io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("gobin: %s: spilling to %s: %w", f.Path, tmp.Name(), err)
	}
	if n > MaxSize {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("gobin: %s: skipped: more than the %d bytes an executable may have", f.Path, MaxSize)}}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gobin: %s: %w", f.Path, err)
	}
	return parse(f.Path, tmp, func() bool { return containsMagic(tmp, n) }), nil
}

// parse reads the build information of one executable. A file that is no Go
// executable yields nothing; one that carries the build information magic but
// cannot be read yields a warning.
func parse(p string, r io.ReaderAt, hasMagic func() bool) *scanner.Result {
	bi, err := buildinfo.Read(r)
	if err != nil {
		if hasMagic() {
			return &scanner.Result{Warnings: []string{fmt.Sprintf("gobin: %s: has Go build information that cannot be read: %v", p, err)}}
		}
		return &scanner.Result{}
	}
	res := &scanner.Result{}
	if bi.Main.Path != "" {
		m := bi.Main
		if m.Replace != nil {
			m = *m.Replace
		}
		if m.Version == "" {
			m.Version = DevelVersion
		}
		res.Packages = append(res.Packages, newPackage(p, m.Path, m.Version))
	}
	for _, d := range bi.Deps {
		if d == nil {
			continue
		}
		mp, mv := d.Path, d.Version
		if d.Replace != nil {
			// The replacement is the code compiled in. A replacement by a
			// directory has no version and is no module of any registry.
			mp, mv = d.Replace.Path, d.Replace.Version
		}
		if mp == "" || mv == "" {
			continue
		}
		res.Packages = append(res.Packages, newPackage(p, mp, mv))
	}
	if v, ok := StdlibVersion(bi.GoVersion); ok {
		res.Packages = append(res.Packages, newPackage(p, StdlibName, v))
	} else if bi.GoVersion != "" && !strings.HasPrefix(bi.GoVersion, "devel") {
		res.Warnings = append(res.Warnings, fmt.Sprintf("gobin: %s: unrecognized Go version %q", p, bi.GoVersion))
	}
	return res
}

var goVersionRE = regexp.MustCompile(`^go([1-9][0-9]*)(\.[0-9]+)?(\.[0-9]+)?((?:rc|beta)[0-9]+)?$`)

// StdlibVersion turns the Go version a binary records ("go1.22.1",
// "go1.22.1 X:loopvar") into the stdlib version osv.dev uses: "v" and the
// release ("v1.22.1"). Pre-releases become semver pre-releases ("go1.21rc2" →
// "v1.21.0-rc.2"). Development toolchains ("devel ...") report false.
func StdlibVersion(goVersion string) (string, bool) {
	goVersion, _, _ = strings.Cut(strings.TrimSpace(goVersion), " ")
	m := goVersionRE.FindStringSubmatch(goVersion)
	if m == nil {
		return "", false
	}
	if m[4] == "" {
		return "v" + strings.TrimPrefix(goVersion, "go"), true
	}
	minor, patch := m[2], m[3]
	if minor == "" {
		minor = ".0"
	}
	if patch == "" {
		patch = ".0"
	}
	pre := strings.Replace(strings.Replace(m[4], "rc", "rc.", 1), "beta", "beta.", 1)
	return "v" + m[1] + minor + patch + "-" + pre, true
}

func newPackage(file, name, version string) *vuln.Package {
	return &vuln.Package{
		Name:      name,
		Version:   version,
		Kind:      vuln.KindBinary,
		Ecosystem: Ecosystem,
		Purl:      Purl(name, version),
		Path:      file,
		PackageDB: file,
	}
}

// Purl is the package URL of a Go module: pkg:golang/github.com/x/y@v1.2.3.
// The module path keeps its case, as Go module paths are case sensitive.
func Purl(module, version string) string {
	ns, name := "", module
	if i := strings.LastIndexByte(module, '/'); i >= 0 {
		ns, name = module[:i], module[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

// containsMagic reports whether the build information magic occurs in r.
func containsMagic(r io.ReaderAt, size int64) bool {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16)
	keep := len(buildInfoMagic) - 1
	buf := make([]byte, 0, 1<<16+keep)
	chunk := make([]byte, 1<<16)
	for {
		n, err := br.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if bytes.Contains(buf, buildInfoMagic) {
			return true
		}
		if len(buf) > keep {
			buf = append(buf[:0], buf[len(buf)-keep:]...)
		}
		if err != nil {
			return false
		}
	}
}
