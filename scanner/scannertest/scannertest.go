// Package scannertest checks a scanner the same way whatever its ecosystem,
// after go-containerregistry's validate package: a scanner's own tests give
// real sample files, this package says what must hold of every scanner.
//
// Validate checks the scanner's name, version and kind; that Wants takes
// each sample's path, always, and no unclean form of it; that each sample
// scans, and tells something of the scanner's kind; that every package has
// a name, a version, a registered ecosystem, a purl that parses and (for a
// language package) the file's path; that a random-access scanner finds
// the same in a stream; that a package cap is kept or said, and a spent
// budget said, naming the file; that truncated copies and garbage never
// panic and what is said of them names the file; and that a file past the
// declared bound is said so without reading past it. Registered, Wants and
// Consistent (for fuzz targets) are the smaller checks scanners' tests
// share; Scan, ScanRA, MustScan and ReadFile their helpers. Use it from every
// scanner's tests, in this module or in a plugin.
package scannertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Case is one real sample: a file's content as it would be at Path in a
// layer (a clean relative path the scanner wants).
type Case struct {
	Path string
	Data []byte
}

// Options says what Validate cannot learn from the Scanner interface.
type Options struct {
	// MaxSize is the scanner's declared bound on one file (its exported
	// MaxSize), 0 for none. A file past it (the first sample's
	// bytes, then zeros) must yield an error or a warning naming the path,
	// having read at most MaxSize+1 bytes; or none, having read less than
	// MaxSize, from a scanner that stops on its own at the end of what it
	// needs (a JSON value, a header).
	MaxSize int64
	// SkipBound, when set, is why the bound is not tried (a scanner that
	// would spool MaxSize bytes to disk to find out).
	SkipBound string
	// NoPackages says the samples may tell nothing; otherwise each must
	// give at least one package, a distribution (after Combine, for a
	// Combiner) or a repository, after the scanner's kind.
	NoPackages bool
}

// Validate checks s on each case; see the package comment.
func Validate(t *testing.T, s scanner.Scanner, opts Options, cases ...Case) {
	t.Helper()
	name, version := s.Name(), s.Version()
	if name == "" || version == "" {
		t.Errorf("scanner %T: Name %q, Version %q: both must be set", s, name, version)
	}
	if s.Name() != name || s.Version() != version {
		t.Errorf("%s: Name or Version not stable across calls", name)
	}
	switch k := s.Kind(); k {
	case scanner.KindPackage, scanner.KindDistribution, scanner.KindRepository:
	default:
		t.Errorf("%s: Kind %q is none of package, distribution, repository", name, k)
	}
	if s.Wants("") {
		t.Errorf("%s: Wants(\"\") = true", name)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no sample files to validate on", name)
	}
	for _, c := range cases {
		t.Run(c.Path, func(t *testing.T) {
			t.Helper()
			validateCase(t, s, opts, c)
		})
	}
	if opts.MaxSize > 0 {
		t.Run("bound", func(t *testing.T) {
			if opts.SkipBound != "" {
				t.Skip(opts.SkipBound)
			}
			bound(t, s, opts.MaxSize, cases[0])
		})
	}
}

func validateCase(t *testing.T, s scanner.Scanner, opts Options, c Case) {
	name := s.Name()
	if !s.Wants(c.Path) {
		t.Fatalf("%s: Wants(%q) = false for a sample", name, c.Path)
	}
	if !s.Wants(c.Path) {
		t.Errorf("%s: Wants(%q) not deterministic", name, c.Path)
	}
	// Paths reach Wants clean and relative: a leading "/" or "./" is no
	// path of a layer. A scanner that wants its file at one place (dpkg's
	// var/lib/dpkg/status) and takes "/"+that matches by suffix where it
	// should match the whole path. One that wants its files at any depth
	// (package.json under node_modules) takes them under any folder, an
	// empty-named one too, so there the check says nothing.
	if !s.Wants("x/" + c.Path) {
		for _, p := range []string{"/" + c.Path, "./" + c.Path} {
			if s.Wants(p) {
				t.Errorf("%s: Wants(%q) = true for a path that is not clean and relative", name, p)
			}
		}
	}
	r, err := scanAsIndexer(context.Background(), s, c.Path, c.Data)
	if err != nil {
		t.Fatalf("%s: Scan(%s): %v", name, c.Path, err)
	}
	if r == nil {
		t.Fatalf("%s: Scan(%s): nil result and nil error", name, c.Path)
	}
	if _, ok := s.(scanner.RandomAccess); ok {
		// Random access is how the indexer hands the file, a stream how
		// a caller without a copy does: both read the same packages.
		rs, err := Scan(context.Background(), s, c.Path, c.Data)
		if err != nil {
			t.Errorf("%s: Scan(%s) as a stream: %v", name, c.Path, err)
		} else if got, want := packages(rs.Packages), packages(r.Packages); got != want {
			t.Errorf("%s: Scan(%s) as a stream finds\n%s\nwith random access\n%s", name, c.Path, got, want)
		}
	}
	for _, p := range r.Packages {
		checkPackage(t, s, c.Path, p)
	}
	combined := r
	if cb, ok := s.(scanner.Combiner); ok {
		combined = cb.Combine(map[string]*scanner.Result{c.Path: r})
		if combined == nil {
			combined = &scanner.Result{}
		}
	}
	// A real sample tells something of the scanner's kind.
	if !opts.NoPackages {
		switch s.Kind() {
		case scanner.KindPackage:
			if len(r.Packages) == 0 {
				t.Errorf("%s: Scan(%s): no packages in a real sample (warnings %q)", name, c.Path, r.Warnings)
			}
		case scanner.KindDistribution:
			if combined.Distribution == nil {
				t.Errorf("%s: Scan(%s): no distribution in a real sample (warnings %q)", name, c.Path, r.Warnings)
			}
		case scanner.KindRepository:
			if len(r.Repositories) == 0 {
				t.Errorf("%s: Scan(%s): no repositories in a real sample (warnings %q)", name, c.Path, r.Warnings)
			}
		}
	}

	// A package cap: the scanner may stop there, saying so.
	if n := len(r.Packages); n > 1 {
		capped, err := scanFile(s, scanner.File{Path: c.Path, Size: int64(len(c.Data)), Mode: 0o755, MaxPackages: 1}, c.Data)
		switch {
		case err != nil:
			t.Errorf("%s: Scan(%s) with MaxPackages 1: %v", name, c.Path, err)
		case len(capped.Packages) < n && !named(capped.Warnings, c.Path):
			t.Errorf("%s: Scan(%s) with MaxPackages 1: %d of %d packages and no warning naming the file (%q)", name, c.Path, len(capped.Packages), n, capped.Warnings)
		}
	}
	// A layer budget used up: what a scanner spools or inflates fails,
	// saying which file.
	spent := scanner.NewBudget("layer", 1, nil)
	if r, err := scanFile(s, scanner.File{Path: c.Path, Size: int64(len(c.Data)), Mode: 0o755, Budget: spent}, c.Data); err != nil {
		if !strings.Contains(err.Error(), c.Path) {
			t.Errorf("%s: Scan(%s) over the budget: error %q does not name the file", name, c.Path, err)
		}
	} else {
		for _, w := range r.Warnings {
			if !strings.Contains(w, c.Path) {
				t.Errorf("%s: Scan(%s) over the budget: warning %q does not name the file", name, c.Path, w)
			}
		}
	}

	// Truncated copies and garbage: an error or a result, never a panic,
	// and whatever is said names the file.
	inputs := map[string][]byte{
		"half":     c.Data[:len(c.Data)/2],
		"one byte": c.Data[:min(1, len(c.Data))],
		"empty":    {},
		"garbage":  garbage(len(c.Data)),
	}
	if len(c.Data) > 1 {
		inputs["all but the last byte"] = c.Data[:len(c.Data)-1]
	}
	for what, b := range inputs {
		r, err, ok := scanNoPanic(t, s, c.Path, b, what)
		if !ok {
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), c.Path) {
				t.Errorf("%s: Scan(%s) of %s: error %q does not name the file", name, c.Path, what, err)
			}
			continue
		}
		if r == nil {
			t.Errorf("%s: Scan(%s) of %s: nil result and nil error", name, c.Path, what)
			continue
		}
		for _, w := range r.Warnings {
			if !strings.Contains(w, c.Path) {
				t.Errorf("%s: Scan(%s) of %s: warning %q does not name the file", name, c.Path, what, w)
			}
		}
	}
}

func checkPackage(t testing.TB, s scanner.Scanner, path string, p *vuln.Package) {
	t.Helper()
	name := s.Name()
	if p == nil {
		t.Errorf("%s: %s: a nil package", name, path)
		return
	}
	if p.Name == "" || p.Version == "" {
		t.Errorf("%s: %s: package %+v without name or version", name, path, p)
	}
	e, ok := vuln.LookupEcosystem(p.Ecosystem)
	if !ok {
		t.Errorf("%s: %s: package %s %s: ecosystem %q is not registered", name, path, p.Name, p.Version, p.Ecosystem)
	}
	if _, err := packageurl.FromString(p.Purl); err != nil {
		t.Errorf("%s: %s: package %s %s: purl %q: %v", name, path, p.Name, p.Version, p.Purl, err)
	}
	// A language package says which file it came from (a nested archive
	// names the outer file first).
	if ok && e.Language && !strings.HasPrefix(p.Path, path) {
		t.Errorf("%s: %s: package %s %s: Path %q is not the file", name, path, p.Name, p.Version, p.Path)
	}
}

// Scan runs s on b as the file at path, a stream of known size (Size, Mode
// and R set; RA not).
func Scan(ctx context.Context, s scanner.Scanner, path string, b []byte) (*scanner.Result, error) {
	return s.Scan(ctx, scanner.File{Path: path, Size: int64(len(b)), Mode: 0o755, R: bytes.NewReader(b)})
}

// ScanRA is Scan with RA set too, as the indexer hands a file to a
// scanner that implements scanner.RandomAccess.
func ScanRA(ctx context.Context, s scanner.Scanner, path string, b []byte) (*scanner.Result, error) {
	return s.Scan(ctx, scanner.File{Path: path, Size: int64(len(b)), Mode: 0o755, R: bytes.NewReader(b), RA: bytes.NewReader(b)})
}

// scanAsIndexer is ScanRA for scanners that implement RandomAccess, Scan
// for the others.
func scanAsIndexer(ctx context.Context, s scanner.Scanner, path string, b []byte) (*scanner.Result, error) {
	if _, ok := s.(scanner.RandomAccess); ok {
		return ScanRA(ctx, s, path, b)
	}
	return Scan(ctx, s, path, b)
}

// scanFile runs s on f with R (and RA for a scanner that takes it)
// reading b.
func scanFile(s scanner.Scanner, f scanner.File, b []byte) (*scanner.Result, error) {
	f.R = bytes.NewReader(b)
	if _, ok := s.(scanner.RandomAccess); ok {
		f.RA = bytes.NewReader(b)
	}
	return s.Scan(context.Background(), f)
}

// named reports whether one of the warnings names path.
func named(warnings []string, path string) bool {
	for _, w := range warnings {
		if strings.Contains(w, path) {
			return true
		}
	}
	return false
}

// MustScan is Scan failing the test on an error.
func MustScan(t testing.TB, s scanner.Scanner, path string, b []byte) *scanner.Result {
	t.Helper()
	r, err := Scan(context.Background(), s, path, b)
	if err != nil {
		t.Fatalf("Scan(%s): %v", path, err)
	}
	return r
}

// scanNoPanic is Scan, reporting a panic and returning ok false for it.
func scanNoPanic(t *testing.T, s scanner.Scanner, path string, b []byte, what string) (r *scanner.Result, err error, ok bool) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("%s: Scan(%s) of %s (%d bytes) panics: %v", s.Name(), path, what, len(b), v)
			r, err, ok = nil, nil, false
		}
	}()
	r, err = scanAsIndexer(context.Background(), s, path, b)
	return r, err, true
}

// packages lists the packages in JSON, sorted, one a line: what compares
// two results whatever their order.
func packages(pkgs []*vuln.Package) string {
	l := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		b, _ := json.Marshal(p)
		l = append(l, string(b))
	}
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// garbage is n (at least 64) bytes that are the same on every run.
func garbage(n int) []byte {
	n = max(n, 64)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// bound hands s a file past maxSize, the sample's followed by zeros
// made only as they are read (a file that starts like a real one, so that
// a scanner that looks at its first bytes reads on), and checks that s says
// so naming the path, having read no more than its bound (plus the byte
// that tells it is past it).
func bound(t *testing.T, s scanner.Scanner, maxSize int64, c Case) {
	path := c.Path
	// A quarter past the bound: a scanner that reads to the end whatever
	// the bound is seen reading more than it.
	z := &zeros{head: c.Data[:min(int64(len(c.Data)), maxSize)], n: maxSize + maxSize/4 + 1}
	f := scanner.File{Path: path, Size: z.n, Mode: 0o755, R: z}
	if _, ok := s.(scanner.RandomAccess); ok {
		f.RA = z
	}
	r, err := s.Scan(context.Background(), f)
	if z.read > maxSize+1 {
		t.Errorf("%s: Scan(%s) of %d bytes read %d, past its bound of %d", s.Name(), path, z.n, z.read, maxSize)
	}
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Scan(%s) past its bound: error %q does not name the file", s.Name(), path, err)
		}
		return
	}
	if (r == nil || len(r.Warnings) == 0) && z.read < maxSize {
		// It stopped on its own before the bound, at the end of what it
		// reads (a JSON value, a header): nothing was cut short.
		return
	}
	if r == nil || len(r.Warnings) == 0 {
		t.Fatalf("%s: Scan(%s) of %d bytes, past its bound of %d: neither an error nor a warning", s.Name(), path, z.n, maxSize)
	}
	for _, w := range r.Warnings {
		if !strings.Contains(w, path) {
			t.Errorf("%s: Scan(%s) past its bound: warning %q does not name the file", s.Name(), path, w)
		}
	}
	if len(r.Packages) != 0 {
		t.Errorf("%s: Scan(%s) of zeros: %d packages", s.Name(), path, len(r.Packages))
	}
}

// zeros is n bytes, head then zeros made as they are read, counting what
// is read.
type zeros struct {
	head         []byte
	n, off, read int64
}

func (z *zeros) Read(p []byte) (int, error) {
	k, err := z.ReadAt(p, z.off)
	z.off += int64(k)
	if err == io.EOF && k > 0 {
		err = nil
	}
	return k, err
}

func (z *zeros) ReadAt(p []byte, off int64) (int, error) {
	if off >= z.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n-off)
	clear(p[:k])
	if off < int64(len(z.head)) {
		copy(p[:k], z.head[off:])
	}
	z.read += k
	if k < int64(len(p)) {
		return int(k), io.EOF
	}
	return int(k), nil
}

// ReadFile returns the content of a sample file, failing the test if it
// cannot be read.
func ReadFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Registered checks that a scanner of s's name is in the registry, of the
// same kind and version.
func Registered(t testing.TB, s scanner.Scanner) {
	t.Helper()
	for _, r := range scanner.All() {
		if r.Name() == s.Name() {
			if r.Kind() != s.Kind() || r.Version() != s.Version() {
				t.Errorf("%s: registered as kind %q version %q, not %q %q", s.Name(), r.Kind(), r.Version(), s.Kind(), s.Version())
			}
			return
		}
	}
	t.Errorf("%s: not registered", s.Name())
}

// Wants checks s.Wants against a table of paths.
func Wants(t testing.TB, s scanner.Scanner, want map[string]bool) {
	t.Helper()
	for p, w := range want {
		if got := s.Wants(p); got != w {
			t.Errorf("%s: Wants(%q) = %v, want %v", s.Name(), p, got, w)
		}
	}
}

// Consistent is for fuzz targets: whatever b is, Scan of it as the file at
// path does not panic; an error or a warning names the path; the packages
// have a name, a version, a registered ecosystem and a purl that parses
// (and a language package the path); and the file as a stream read one
// byte at a time gives the same packages (with random access too, for a
// scanner that takes it). It returns what Scan did, for the scanner's own
// checks.
func Consistent(t testing.TB, s scanner.Scanner, path string, b []byte) (*scanner.Result, error) {
	t.Helper()
	r, err := scanAsIndexer(context.Background(), s, path, b)
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: error %q does not name the file", s.Name(), err)
		}
		return nil, err
	}
	if r == nil {
		t.Fatalf("%s: nil result and nil error", s.Name())
	}
	for _, w := range r.Warnings {
		if !strings.Contains(w, path) {
			t.Fatalf("%s: warning %q does not name the file", s.Name(), w)
		}
	}
	for _, p := range r.Packages {
		checkPackage(t, s, path, p)
	}
	// The same file as a stream read one byte at a time (random access
	// left out for a scanner that takes it) gives the same packages.
	r2, err := s.Scan(context.Background(), scanner.File{Path: path, Size: int64(len(b)), Mode: 0o755, R: iotest.OneByteReader(bytes.NewReader(b))})
	if err != nil {
		t.Fatalf("%s: as a stream one byte at a time: %v", s.Name(), err)
	}
	if got, want := packages(r2.Packages), packages(r.Packages); got != want {
		t.Fatalf("%s: as a stream one byte at a time finds\n%s\ninstead of\n%s", s.Name(), got, want)
	}
	return r, nil
}
