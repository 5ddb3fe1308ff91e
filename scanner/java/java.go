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
// A layer entry is a stream, and archive/zip needs random access: archives
// up to MaxInMemory are read into memory, larger ones spilled to a temporary
// file. A nested archive stored uncompressed (as Spring Boot stores its
// BOOT-INF/lib) is read in place; a compressed one is decompressed the same
// way, within a budget of decompressed bytes and entries per layer file, so
// that a zip bomb costs a warning and not the layer.
package java

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
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

// walker holds what one layer file's scan found and may still spend.
type walker struct {
	ctx   context.Context
	s     *Scanner
	bytes int64 // decompressed bytes left
	// budget is the layer's (and image's) budget of inflated bytes,
	// charged with the same bytes as w.bytes.
	budget  *scanner.Budget
	entries int  // zip entries left
	spent   bool // a budget ran out: warned once, nothing more is opened
	dropped int  // warnings past maxWarnings
	pkgs    []*vuln.Package
	warns   []string
	// seen maps "group:artifact@version" to the indexes in pkgs of the
	// packages of those coordinates.
	seen map[string][]int
}

func (w *walker) warnf(p, format string, args ...any) {
	if len(w.warns) >= maxWarnings {
		w.dropped++
		return
	}
	w.warns = append(w.warns, fmt.Sprintf("java: %s: ", p)+fmt.Sprintf(format, args...))
}

// errBudget ends a read that would go past the decompression budget.
var errBudget = errors.New("decompression budget exhausted")

// archive scans one zip: its metadata, then its nested archives. disp is
// its path for reports ("app.war!WEB-INF/lib/a.jar"), name its file name.
// Only context errors are returned: a broken archive is a warning.
func (w *walker) archive(ra io.ReaderAt, size int64, disp, name string, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	zr, err := zip.NewReader(ra, size)
	if errors.Is(err, zip.ErrInsecurePath) {
		err = nil // names are only matched here, never used as paths
	}
	if err != nil {
		w.warnf(disp, "not a readable zip archive: %v", err)
		return nil
	}
	w.entries -= len(zr.File)
	if w.entries < 0 {
		w.exhausted(disp, "more than %d zip entries in all", w.s.maxEntries())
		return nil
	}

	var poms []props
	var manifest *zip.File
	var nested []*zip.File
	for _, zf := range zr.File {
		n := zf.Name
		switch {
		case strings.HasSuffix(n, "/"):
		case strings.HasPrefix(n, "META-INF/maven/") && path.Base(n) == "pom.properties":
			b, err := w.read(zf, maxPomProperties)
			if err != nil {
				w.readWarning(disp, n, err)
				continue
			}
			p := parsePomProperties(b)
			if p.group == "" {
				// META-INF/maven/<group>/<artifact>/pom.properties
				if parts := strings.Split(n, "/"); len(parts) == 5 {
					p.group = cleanValue(parts[2])
				}
			}
			if p.artifact == "" || p.version == "" {
				w.warnf(disp, "%s: no artifactId or version", n)
				continue
			}
			poms = append(poms, p)
		case strings.EqualFold(n, "META-INF/MANIFEST.MF"):
			manifest = zf
		case isArchive(n):
			nested = append(nested, zf)
		}
	}

	own := fileNameProps(name)
	var mf props
	if manifest != nil {
		b, err := w.read(manifest, maxManifest)
		if err != nil && !errors.Is(err, scanner.ErrTooLarge) {
			w.readWarning(disp, manifest.Name, err)
		} else {
			// A manifest cut at the bound still has its main section's
			// first headers, which are the ones kept.
			mf = parseManifest(b)
		}
	}
	for _, p := range poms {
		w.add(p, disp)
	}
	switch {
	case len(poms) == 0 && mf.valid():
		w.add(mf, disp)
	case len(poms) == 0 && own.valid():
		w.add(own, disp)
	case len(poms) > 0 && mf.valid() && mf.group != "" && !isOwn(poms, own) && !matches(poms, mf):
		// A shaded jar: its pom.properties describe what it absorbed.
		w.add(mf, disp)
	}

	for _, zf := range nested {
		if w.spent {
			return nil
		}
		child := disp + "!" + zf.Name
		if depth+1 > w.s.maxDepth() {
			w.warnf(child, "not scanned: archives nested more than %d deep", w.s.maxDepth())
			continue
		}
		if err := w.nested(ra, disp, zf, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// exhausted records that a budget ran out and stops every further read.
func (w *walker) exhausted(p, format string, args ...any) {
	if !w.spent {
		w.spent = true
		w.warnf(p, "stopped (zip bomb?): "+format+"; what was found so far is reported", args...)
	}
}

func (w *walker) readWarning(disp, name string, err error) {
	if errors.Is(err, errBudget) {
		w.exhausted(disp+"!"+name, "more than %d bytes decompressed in all", w.s.maxBytes())
		return
	}
	if errors.Is(err, scanner.ErrBudget) {
		w.exhausted(disp+"!"+name, "%v", err)
		return
	}
	w.warnf(disp, "%s: %v", name, err)
}

// nested scans an archive inside another. A stored entry is read in place;
// a compressed one is decompressed into memory or a temporary file.
func (w *walker) nested(parent io.ReaderAt, parentDisp string, zf *zip.File, depth int) error {
	disp := parentDisp + "!" + zf.Name
	name := path.Base(zf.Name)
	if zf.Method == zip.Store && zf.Flags&0x1 == 0 {
		off, err := zf.DataOffset()
		if err != nil {
			w.warnf(disp, "unreadable entry: %v", err)
			return nil
		}
		return w.archive(io.NewSectionReader(parent, off, int64(zf.CompressedSize64)), int64(zf.CompressedSize64), disp, name, depth)
	}
	if left := min(w.bytes, w.budget.Left()); zf.UncompressedSize64 > uint64(left) {
		// Declared larger than what is left: skip it without inflating a
		// byte, so that the rest of the layer file is still read.
		w.warnf(disp, "not scanned (zip bomb?): decompresses to %d bytes, more than the %d left to decompress (in this file, layer and image)", zf.UncompressedSize64, left)
		return nil
	}
	rc, err := zf.Open()
	if err != nil {
		w.warnf(disp, "unreadable entry: %v", err)
		return nil
	}
	defer rc.Close()
	// The declared size may lie; archive/zip fails a read past it, and the
	// budget bounds it as well.
	r := &budgetReader{r: rc, w: w}
	if zf.UncompressedSize64 <= MaxInMemory {
		// Sized by the declaration, which is at most MaxInMemory here.
		buf := bytes.NewBuffer(make([]byte, 0, zf.UncompressedSize64+bytes.MinRead))
		if _, err := buf.ReadFrom(limit.Reader(r, MaxInMemory)); err != nil {
			w.readWarning(parentDisp, zf.Name, err)
			return nil
		}
		return w.archive(bytes.NewReader(buf.Bytes()), int64(buf.Len()), disp, name, depth)
	}
	tmp, n, err := spill(r)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return err // our disk, not the archive
		}
		w.readWarning(parentDisp, zf.Name, err)
		return nil
	}
	defer release(tmp)
	return w.archive(tmp, n, disp, name, depth)
}

// read returns one entry's content, at most max bytes of it.
func (w *walker) read(zf *zip.File, max int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(scanner.LimitReader(&budgetReader{r: rc, w: w}, max))
	if errors.Is(err, scanner.ErrTooLarge) {
		return b, fmt.Errorf("more than %d bytes: %w", max, err)
	}
	return b, err
}

// budgetReader charges what it reads to the walker's byte budget.
type budgetReader struct {
	r io.Reader
	w *walker
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.w.bytes <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > b.w.bytes {
		p = p[:b.w.bytes]
	}
	n, err := b.r.Read(p)
	b.w.bytes -= int64(n)
	if berr := b.w.budget.Take(int64(n)); berr != nil {
		return 0, berr
	}
	return n, err
}

// add reports an artifact found in the archive at disp, unless the same
// coordinates were already found in an archive that contains this one or
// that this one contains: a fat jar's META-INF/maven may describe a jar it
// also nests. The deeper path, the jar itself, is kept.
func (w *walker) add(p props, disp string) {
	key := p.group + ":" + p.artifact + "@" + p.version
	for _, i := range w.seen[key] {
		q := w.pkgs[i]
		switch {
		case strings.HasPrefix(disp, q.Path+"!"):
			q.Path, q.PackageDB = disp, "maven:"+disp
			return
		case disp == q.Path || strings.HasPrefix(q.Path, disp+"!"):
			return
		}
	}
	name := p.artifact
	if p.group != "" {
		name = p.group + ":" + p.artifact
	}
	w.seen[key] = append(w.seen[key], len(w.pkgs))
	w.pkgs = append(w.pkgs, &vuln.Package{
		Name:      name,
		Version:   p.version,
		Kind:      vuln.KindBinary,
		Ecosystem: Ecosystem,
		Purl:      Purl(p.group, p.artifact, p.version),
		Path:      disp,
		PackageDB: "maven:" + disp,
	})
}

// Purl is the package URL of a Maven artifact.
func Purl(group, artifact, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeMaven, group, artifact, version, nil, "").ToString()
}

// props are Maven coordinates.
type props struct {
	group, artifact, version string
}

func (p props) valid() bool { return p.artifact != "" && p.version != "" }

// isOwn reports whether some pom.properties is the archive's own, by the
// artifact its file name names. A name without a version ("app.jar") says
// nothing, and then a single pom.properties is taken as the archive's.
func isOwn(poms []props, own props) bool {
	if own.version == "" {
		return len(poms) == 1
	}
	return matches(poms, own)
}

func matches(poms []props, p props) bool {
	for _, q := range poms {
		if q.artifact == p.artifact && (p.version == "" || q.version == p.version) {
			return true
		}
	}
	return false
}

// fileNameProps reads an artifact and version from an archive's file name
// as Maven names them: artifactId-version[-classifier].jar, the version
// beginning at the last "-" followed by a digit ("log4j-1.2-api-2.14.1.jar").
func fileNameProps(name string) props {
	base := strings.TrimSuffix(name, path.Ext(name))
	for i := len(base) - 2; i > 0; i-- {
		if base[i] == '-' && base[i+1] >= '0' && base[i+1] <= '9' {
			return props{artifact: cleanValue(base[:i]), version: cleanValue(base[i+1:])}
		}
	}
	return props{artifact: cleanValue(base)}
}

// parsePomProperties reads the groupId, artifactId and version of a
// pom.properties, a java.util.Properties file: "key=value", "key: value" or
// "key value" lines, "#" and "!" comments, "\" continuations and escapes.
func parsePomProperties(b []byte) props {
	var p props
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxPomProperties+1)
	var logical strings.Builder
	for sc.Scan() {
		line := strings.TrimLeft(strings.TrimRight(sc.Text(), "\r"), " \t\f")
		if logical.Len() == 0 && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if cont := trailingBackslashes(line)%2 == 1; cont {
			logical.WriteString(line[:len(line)-1])
			continue
		}
		logical.WriteString(line)
		k, v := splitProperty(logical.String())
		logical.Reset()
		switch k {
		case "groupId":
			p.group = cleanValue(v)
		case "artifactId":
			p.artifact = cleanValue(v)
		case "version":
			p.version = cleanValue(v)
		}
	}
	return p
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

// splitProperty splits a logical line at the first unescaped "=", ":" or
// white space, and unescapes key and value.
func splitProperty(line string) (key, value string) {
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
	}
	if i > len(line) {
		i = len(line)
	}
	key, rest := line[:i], line[i:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return unescape(key), unescape(rest)
}

func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			var r rune
			j := i + 1
			for ; j < len(s) && j < i+5; j++ {
				d := s[j]
				switch {
				case d >= '0' && d <= '9':
					r = r<<4 | rune(d-'0')
				case d >= 'a' && d <= 'f':
					r = r<<4 | rune(d-'a'+10)
				case d >= 'A' && d <= 'F':
					r = r<<4 | rune(d-'A'+10)
				default:
					j = len(s) + 1 // malformed: drop the escape
				}
			}
			if j == i+5 {
				b.WriteRune(r)
				i += 4
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// cleanValue returns v trimmed, or "" when it cannot be a coordinate: too
// long, not UTF-8, with control characters, or an unresolved "${...}".
func cleanValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > maxValue || !utf8.ValidString(v) || strings.Contains(v, "${") {
		return ""
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	return v
}

// parseManifest reads an artifact from a manifest's main section, as Trivy
// does: Implementation-Title or the Bundle-SymbolicName's last element as
// artifact, Implementation-Version or Bundle-Version as version, and
// Implementation-Vendor-Id, or the Bundle-SymbolicName without its last
// element, as group.
func parseManifest(b []byte) props {
	h := manifestHeaders(b)
	var p props
	bsn, _, _ := strings.Cut(h["Bundle-SymbolicName"], ";") // drop ";singleton:=true"
	bsn = strings.TrimSpace(bsn)
	bsnGroup, bsnArtifact := "", bsn
	if i := strings.LastIndexByte(bsn, '.'); i > 0 {
		bsnGroup, bsnArtifact = bsn[:i], bsn[i+1:]
	}
	switch title := h["Implementation-Title"]; {
	case title != "" && !strings.ContainsAny(title, " \t"):
		p.artifact = title
	case bsnArtifact != "":
		p.artifact = bsnArtifact
	}
	p.version = h["Implementation-Version"]
	if p.version == "" {
		p.version = h["Bundle-Version"]
	}
	p.group = h["Implementation-Vendor-Id"]
	if p.group == "" {
		p.group = bsnGroup
	}
	p.group, p.artifact, p.version = cleanValue(p.group), cleanValue(p.artifact), cleanValue(p.version)
	return p
}

// manifestHeaders returns the headers parseManifest uses from a
// manifest's main section (up to the first blank line). A line that begins
// with a space continues the one before, even inside a header's name, as
// java.util.jar.Manifest reads it. Lines end in CR LF, LF or CR. The first
// of repeated headers wins.
func manifestHeaders(b []byte) map[string]string {
	h := map[string]string{}
	var logical []byte
	flush := func() {
		k, v, ok := bytes.Cut(logical, []byte(":"))
		logical = logical[:0]
		if !ok {
			return
		}
		if _, want := manifestKeys[string(k)]; !want {
			return
		}
		if _, dup := h[string(k)]; !dup {
			h[string(k)] = string(bytes.TrimLeft(v, " "))
		}
	}
	for len(b) > 0 {
		var line []byte
		i := bytes.IndexAny(b, "\r\n")
		switch {
		case i < 0:
			line, b = b, nil
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
			line, b = b[:i], b[i+2:]
		default:
			line, b = b[:i], b[i+1:]
		}
		if len(line) == 0 {
			break // the main section ends at the first blank line
		}
		if line[0] == ' ' {
			// Kept headers are short; the long ones (Export-Package) are
			// not worth the copy.
			if len(logical) <= 2*maxValue {
				logical = append(logical, line[1:]...)
			}
			continue
		}
		flush()
		logical = append(logical, line[:min(len(line), 2*maxValue)]...)
	}
	flush()
	return h
}

var manifestKeys = map[string]struct{}{
	"Implementation-Title": {}, "Implementation-Version": {}, "Implementation-Vendor-Id": {},
	"Bundle-SymbolicName": {}, "Bundle-Version": {},
}
