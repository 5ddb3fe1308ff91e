// Package java finds the Maven artifacts in Java archives (.jar, .war,
// .ear and the .par, .sar, .jpi, .hpi variants), and in the archives nested
// in them: WEB-INF/lib of a war, BOOT-INF/lib of a Spring Boot fat jar, lib/
// and the modules of an ear.
//
// An archive's artifacts come, as Trivy finds them, from the first of:
//   - every META-INF/maven/<group>/<artifact>/pom.properties (more than one
//     in a shaded jar, which carries the metadata of what it absorbed);
//   - META-INF/MANIFEST.MF (Implementation-* or Bundle-* headers);
//   - the file name ("name-1.2.3.jar").
//
// When no pom.properties is the archive's own (a shaded jar whose file name
// names another artifact), the manifest's artifact is reported too.
//
// archive/zip needs random access: the indexer hands the scanner its own
// copy of the archive (File.RA); without one, archives up to MaxInMemory
// are read into memory, larger ones spilled to a temporary file. A nested
// archive stored uncompressed (as Spring Boot stores its BOOT-INF/lib) is
// read in place; a compressed one is decompressed the same way, within a
// budget of decompressed bytes and entries per layer file and the layer's
// and image's budget (File.Budget), so that a zip bomb costs a warning and
// not the layer.
//
// Files: java.go the scanner, archive.go the walk of an archive and its
// nested ones, coords.go Maven coordinates and file names, pom.go
// pom.properties, manifest.go MANIFEST.MF.
package java

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/openclair/clair/scanner"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "maven"

// Defaults of the Scanner's limits.
const (
	// MaxSize bounds the archives read from a layer; larger ones are
	// skipped with a warning. The largest real application archives are a
	// few hundred megabytes.
	MaxSize = 2 << 30
	// MaxInMemory is the largest archive, outer or nested, held in memory;
	// larger ones go to a temporary file.
	MaxInMemory = 8 << 20
	// DefaultMaxDepth is how deep archives nest before the scanner stops
	// descending: real layouts go three deep (ear, war, jar).
	DefaultMaxDepth = 8
	// DefaultMaxBytes bounds what is decompressed for one layer file: nested
	// archives and metadata files. Stored nested archives cost nothing.
	DefaultMaxBytes = 1 << 30
	// DefaultMaxEntries bounds the zip entries of one layer file and all its
	// nested archives together.
	DefaultMaxEntries = 1 << 20
)

// Bounds on the metadata files read from an archive. A pom.properties is a
// few hundred bytes; a manifest's main section holds OSGi Export-Package
// lists that reach a few hundred kilobytes.
const (
	maxPomProperties = 64 << 10
	maxManifest      = 4 << 20
	maxValue         = 512 // longer header or property values are ignored
	// maxWarnings bounds the warnings of one layer file: an archive of a
	// million broken entries says so in one line.
	maxWarnings = 20
)

// Scanner is the Java archive scanner. Its zero value is ready to use; the
// limits are settable for tests and callers that need other bounds.
type Scanner struct {
	MaxDepth   int   // nesting levels below the layer file; 0: DefaultMaxDepth
	MaxBytes   int64 // decompressed bytes per layer file; 0: DefaultMaxBytes
	MaxEntries int   // zip entries per layer file; 0: DefaultMaxEntries
}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "java" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner.
func (*Scanner) Wants(p string) bool { return isArchive(p) }

// RandomAccess implements scanner.RandomAccess: archive/zip reads at
// offsets, and the indexer's copy of the archive serves for it.
func (*Scanner) RandomAccess() {}

// isArchive reports whether the name has a Java archive extension, in any
// case ("LIB.JAR" occurs in images built on Windows).
func isArchive(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || len(name)-i != 4 || i == 0 || name[i-1] == '/' {
		return false
	}
	switch strings.ToLower(name[i+1:]) {
	case "jar", "war", "ear", "par", "sar", "jpi", "hpi":
		return true
	}
	return false
}

// Scan implements scanner.Scanner.
func (s *Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("java: %s: %w", f.Path, err)
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	if f.Size > MaxSize {
		return warn(f.Path, "skipped: %d bytes, more than the %d an archive may have", f.Size, int64(MaxSize)), nil
	}
	r := scanner.LimitReader(f.R, MaxSize)
	var (
		ra   io.ReaderAt
		size int64
	)
	if f.RA != nil {
		ra, size = f.RA, f.Size
	} else if f.Size <= MaxInMemory {
		b, err := io.ReadAll(io.LimitReader(r, MaxInMemory+1))
		if err != nil {
			return nil, fmt.Errorf("java: %s: %w", f.Path, err)
		}
		if len(b) <= MaxInMemory {
			ra, size = bytes.NewReader(b), int64(len(b))
		} else {
			// The size said otherwise: read on into a temporary file.
			r = io.MultiReader(bytes.NewReader(b), r)
		}
	}
	if ra == nil {
		tmp, n, err := spill(f.Budget.Reader(r))
		if errors.Is(err, scanner.ErrTooLarge) {
			return warn(f.Path, "skipped: more than the %d bytes an archive may have", int64(MaxSize)), nil
		}
		if errors.Is(err, scanner.ErrBudget) {
			return warn(f.Path, "skipped: %v", err), nil
		}
		if err != nil {
			return nil, fmt.Errorf("java: %s: %w", f.Path, err)
		}
		defer release(tmp)
		ra, size = tmp, n
	}
	w := &walker{ctx: ctx, s: s, bytes: s.maxBytes(), budget: f.Budget, entries: s.maxEntries(), seen: map[string][]int{}}
	if err := w.archive(ra, size, f.Path, path.Base(f.Path), 0); err != nil {
		return nil, fmt.Errorf("java: %s: %w", f.Path, err)
	}
	if w.dropped > 0 {
		w.warns = append(w.warns, fmt.Sprintf("java: %s: %d more warnings", f.Path, w.dropped))
	}
	return &scanner.Result{Packages: w.pkgs, Warnings: w.warns}, nil
}

func (s *Scanner) maxDepth() int {
	if s.MaxDepth > 0 {
		return s.MaxDepth
	}
	return DefaultMaxDepth
}

func (s *Scanner) maxBytes() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxBytes
}

func (s *Scanner) maxEntries() int {
	if s.MaxEntries > 0 {
		return s.MaxEntries
	}
	return DefaultMaxEntries
}

func warn(p, format string, args ...any) *scanner.Result {
	return &scanner.Result{Warnings: []string{fmt.Sprintf("java: %s: ", p) + fmt.Sprintf(format, args...)}}
}

// spill copies r to a temporary file, which the caller releases.
func spill(r io.Reader) (*os.File, int64, error) {
	tmp, err := os.CreateTemp("", "clair-java-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(tmp, r)
	if err != nil {
		release(tmp)
		return nil, 0, err
	}
	return tmp, n, nil
}

func release(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}
