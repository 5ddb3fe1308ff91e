// Package rust finds the crates compiled into Rust executables built with
// cargo-auditable (https://github.com/rust-secure-code/cargo-auditable),
// which embeds the dependency tree as zlib-compressed JSON in a ".dep-v0"
// section: ELF and PE ".dep-v0", Mach-O "__DATA,.dep-v0".
//
// What is reported follows Trivy and Syft (both read the section with
// github.com/microsoft/go-rustaudit): runtime dependencies only (kind
// "build" crates run at build time and are not in the binary). Of those,
// crates from crates.io are reported, and the root package (the binary's
// own crate, which no advisory will name unless it is a published crate);
// path, git and alternative-registry crates are left out, since a crates.io
// advisory about a crate of the same name says nothing about them.
package rust

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/version/cargo"
	"github.com/openclair/clair/vuln"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "cargo"

// SectionName is the section cargo-auditable writes.
const SectionName = ".dep-v0"

// MaxSize bounds the executables the scanner reads. Larger files are
// skipped with a warning.
const MaxSize = 512 << 20

// MaxInMemory is the largest executable read into memory; larger ones (up
// to MaxSize) are spilled to a temporary file, since the section headers
// of ELF, PE and Mach-O files are found by seeking.
const MaxInMemory = 64 << 20

// MaxSection bounds the compressed section, and MaxJSON the JSON it
// inflates to. A binary with a thousand crates carries about 20 KiB of
// compressed JSON, 100 KiB inflated; cargo-auditable's own reader refuses
// more than 8 MiB.
const (
	MaxSection = 8 << 20
	MaxJSON    = 32 << 20
)

// minSize is below the smallest executable worth the read.
const minSize = 1 << 10

// Scanner is the cargo-auditable scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "rust" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "2" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner: see scanner.MaybeExecutable.
func (*Scanner) Wants(p string) bool { return scanner.MaybeExecutable(p) }

// Sniff implements scanner.Sniffer: only executables are read.
func (*Scanner) Sniff(_ string, head []byte) bool { return sniff(head) != notExecutable }

// RandomAccess implements scanner.RandomAccess: the section is found from
// the headers at their offsets, so an indexed executable is never held
// whole in memory.
func (*Scanner) RandomAccess() {}

// format is the executable format of the first bytes.
type format int

const (
	notExecutable format = iota
	formatELF
	formatPE
	formatMachO
	formatFat
)

func sniff(b []byte) format {
	switch {
	case len(b) < 4:
		return notExecutable
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return formatELF
	case bytes.HasPrefix(b, []byte("MZ")):
		return formatPE
	case bytes.HasPrefix(b, []byte("\xfe\xed\xfa")), bytes.HasPrefix(b[1:], []byte("\xfa\xed\xfe")):
		return formatMachO
	case bytes.HasPrefix(b, []byte("\xca\xfe\xba\xbe")):
		return formatFat
	}
	return notExecutable
}

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rust: %s: %w", f.Path, err)
	}
	if f.R == nil || (f.Size > 0 && f.Size < minSize) {
		return &scanner.Result{}, nil
	}
	head := make([]byte, 4)
	n, err := io.ReadFull(f.R, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("rust: %s: %w", f.Path, err)
	}
	kind := sniff(head[:n])
	if kind == notExecutable {
		return &scanner.Result{}, nil
	}
	if f.Size > MaxSize {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("rust: %s: skipped: %d bytes, more than the %d an executable may have", f.Path, f.Size, MaxSize)}}, nil
	}
	if f.RA != nil {
		return scanExecutable(f.Path, kind, io.NewSectionReader(f.RA, 0, f.Size)), nil
	}
	r := io.MultiReader(bytes.NewReader(head[:n]), f.R)
	if f.Size > MaxInMemory {
		return scanSpilled(ctx, f, kind, r)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxInMemory+1))
	if err != nil {
		return nil, fmt.Errorf("rust: %s: %w", f.Path, err)
	}
	if len(b) > MaxInMemory {
		// The size said otherwise: read on into a temporary file.
		return scanSpilled(ctx, f, kind, io.MultiReader(bytes.NewReader(b), r))
	}
	if !bytes.Contains(b, []byte(SectionName)) {
		return &scanner.Result{}, nil // no section of that name: not worth parsing
	}
	return scanExecutable(f.Path, kind, bytes.NewReader(b)), nil
}

// scanSpilled copies an executable too large for memory to a temporary file.
func scanSpilled(ctx context.Context, f scanner.File, kind format, r io.Reader) (*scanner.Result, error) {
	tmp, err := os.CreateTemp("", "clair-rust-*")
	if err != nil {
		return nil, fmt.Errorf("rust: %s: %w", f.Path, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	n, err := io.Copy(tmp, io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("rust: %s: spilling to %s: %w", f.Path, tmp.Name(), err)
	}
	if n > MaxSize {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("rust: %s: skipped: more than the %d bytes an executable may have", f.Path, MaxSize)}}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rust: %s: %w", f.Path, err)
	}
	return scanExecutable(f.Path, kind, tmp), nil
}

// scanExecutable finds and reads the section. An executable without one
// yields nothing; an unreadable executable or section yields a warning.
func scanExecutable(p string, kind format, r io.ReaderAt) *scanner.Result {
	sec, err := findSection(kind, r)
	if err != nil {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("rust: %s: %v", p, err)}}
	}
	if sec == nil {
		return &scanner.Result{}
	}
	pkgs, skipped, err := ParseSection(sec)
	if err != nil {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("rust: %s: %s section: %v", p, SectionName, err)}}
	}
	res := &scanner.Result{}
	for _, c := range pkgs {
		res.Packages = append(res.Packages, &vuln.Package{
			Name:      c.Name,
			Version:   c.Version,
			Kind:      vuln.KindBinary,
			Ecosystem: Ecosystem,
			Purl:      Purl(c.Name, c.Version),
			Path:      p,
			PackageDB: p,
		})
	}
	if skipped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("rust: %s: %d crates with an invalid name or version skipped", p, skipped))
	}
	return res
}

// findSection returns a reader of the .dep-v0 section, or nil when there is
// none. Errors are about executables that cannot be read.
func findSection(kind format, r io.ReaderAt) (io.Reader, error) {
	switch kind {
	case formatELF:
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, fmt.Errorf("unreadable ELF: %w", err)
		}
		s := f.Section(SectionName)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		return s.Open(), nil
	case formatPE:
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, nil // "MZ" starts many files that are no PE
		}
		if s := f.Section(SectionName); s != nil {
			return s.Open(), nil
		}
		return nil, nil
	case formatMachO:
		f, err := macho.NewFile(r)
		if err != nil {
			return nil, fmt.Errorf("unreadable Mach-O: %w", err)
		}
		return machoSection(f), nil
	case formatFat:
		ff, err := macho.NewFatFile(r)
		if err != nil {
			return nil, nil // 0xcafebabe also starts Java class files
		}
		for _, a := range ff.Arches {
			if s := machoSection(a.File); s != nil {
				return s, nil
			}
		}
	}
	return nil, nil
}

func machoSection(f *macho.File) io.Reader {
	for _, s := range f.Sections {
		if s.Name == SectionName && s.Seg == "__DATA" {
			return s.Open()
		}
	}
	return nil
}

// Crate is one crate of a binary.
type Crate struct {
	Name, Version string
	Root          bool
}

// auditPackage is one entry of cargo-auditable's JSON (auditable-serde's
// Package).
type auditPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source"`
	Kind    string `json:"kind"` // "runtime" (the default) or "build"
	Root    bool   `json:"root"`
	// Dependencies ([]int) are not read.
}

// SourceCratesIO is the source of crates from crates.io.
const SourceCratesIO = "crates.io"

// nameRE is a crate name as crates.io allows it (64 characters at most,
// ASCII letters, digits, "_" and "-"), or as Cargo allows it locally.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$`)

// ParseSection reads the content of a .dep-v0 section: zlib-compressed JSON.
// It returns the runtime crates from crates.io and the root crate, in
// section order, and how many of those were skipped for an invalid name or
// version.
func ParseSection(r io.Reader) (crates []Crate, skipped int, err error) {
	zr, err := zlib.NewReader(io.LimitReader(r, MaxSection))
	if err != nil {
		return nil, 0, fmt.Errorf("not zlib: %w", err)
	}
	defer zr.Close()
	var doc struct {
		Packages []auditPackage `json:"packages"`
	}
	dec := json.NewDecoder(bufio.NewReader(scanner.LimitReader(zr, MaxJSON)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, scanner.ErrTooLarge) {
			return nil, 0, fmt.Errorf("more than %d bytes of JSON", MaxJSON)
		}
		return nil, 0, fmt.Errorf("bad JSON: %w", err)
	}
	if doc.Packages == nil {
		return nil, 0, errors.New(`no "packages" list`)
	}
	for _, p := range doc.Packages {
		if p.Kind != "" && p.Kind != "runtime" {
			continue
		}
		if !p.Root && p.Source != SourceCratesIO {
			continue
		}
		if !nameRE.MatchString(p.Name) {
			skipped++
			continue
		}
		if _, err := cargo.Parse(p.Version); err != nil {
			skipped++
			continue
		}
		crates = append(crates, Crate{Name: p.Name, Version: p.Version, Root: p.Root})
	}
	return crates, skipped, nil
}

// Purl is the package URL of a crate: pkg:cargo/regex@1.5.4.
func Purl(name, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeCargo, "", name, version, nil, "").ToString()
}
