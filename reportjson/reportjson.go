// Package reportjson writes a vuln.VulnerabilityReport as the API serves it:
// byte for byte what encoding/json's Encoder (SetEscapeHTML(false)) writes,
// map keys sorted, but without reflection, and streamed.
//
// Why it exists: the first report of a large image (700 packages, ten
// thousand package/vulnerability pairs, 9.8 MB) spent most of its time in
// encoding/json; this writer is several times faster (BenchmarkEncode), and
// TestMatchesEncodingJSON holds it to encoding/json's bytes, including for
// every field of every type it writes, so a field added to vuln's types
// without a line here fails that test.
package reportjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/openclair/clair/internal/jsonscan"
	"github.com/openclair/clair/vuln"
)

// flushAt is how much is buffered before a write to the destination: big
// enough that writes are few, small enough that the first bytes leave early.
const flushAt = 32 << 10

// Encode writes vr to w followed by a newline, as json.Encoder.Encode does.
func Encode(w io.Writer, vr *vuln.VulnerabilityReport) error {
	e := &encoder{w: w, b: make([]byte, 0, flushAt+4<<10),
		pkgs: map[*vuln.Package]string{}, dists: map[*vuln.Distribution]string{}}
	e.report(vr)
	e.b = append(e.b, '\n')
	e.flush()
	if e.err != nil {
		return fmt.Errorf("reportjson: %w", e.err)
	}
	return nil
}

type encoder struct {
	w   io.Writer
	b   []byte
	err error
	// Each vulnerability repeats its package and distribution, the same
	// pointers over and over: they are encoded once and then copied.
	pkgs  map[*vuln.Package]string
	dists map[*vuln.Distribution]string
}

func (e *encoder) flush() {
	if e.err == nil && len(e.b) > 0 {
		_, e.err = e.w.Write(e.b)
	}
	e.b = e.b[:0]
}

// maybeFlush is called between values: the buffer never holds much more
// than one large value past flushAt.
func (e *encoder) maybeFlush() {
	if len(e.b) >= flushAt {
		e.flush()
	}
}

func (e *encoder) report(vr *vuln.VulnerabilityReport) {
	if vr == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, `{"manifest_hash":`...)
	e.b = appendString(e.b, vr.ManifestHash)
	e.b = append(e.b, `,"packages":`...)
	writeMap(e, vr.Packages, (*encoder).pkg)
	e.b = append(e.b, `,"distributions":`...)
	writeMap(e, vr.Distributions, (*encoder).dist)
	e.b = append(e.b, `,"repository":`...)
	writeMap(e, vr.Repositories, (*encoder).repo)
	e.b = append(e.b, `,"environments":`...)
	writeMap(e, vr.Environments, (*encoder).envs)
	e.b = append(e.b, `,"vulnerabilities":`...)
	e.vulns(vr.Vulnerabilities)
	e.b = append(e.b, `,"package_vulnerabilities":`...)
	writeMap(e, vr.PackageVulnerabilities, func(e *encoder, s []string) { e.b = appendStrings(e.b, s) })
	e.b = append(e.b, `,"enrichments":`...)
	writeMap(e, vr.Enrichments, (*encoder).anys)
	e.b = append(e.b, '}')
}

// writeMap writes m with its keys sorted, as encoding/json does; a nil map
// is null.
func writeMap[V any](e *encoder, m map[string]V, value func(*encoder, V)) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, k)
		e.b = append(e.b, ':')
		value(e, m[k])
		e.maybeFlush()
	}
	e.b = append(e.b, '}')
}

// parallelVulns is the fewest vulnerabilities worth encoding on several
// cores: the vulnerabilities are nine tenths of a large report's bytes
// (descriptions mostly), 19 ms of encoding on one core for the 700-package
// image's 6,645.
const parallelVulns = 1024

// vulns writes the vulnerabilities as writeMap does. Past parallelVulns,
// the sorted keys are cut into consecutive runs, each encoded on a
// goroutine of its own into its own buffer, and the runs written in order
// as they are done: the same bytes, sooner.
func (e *encoder) vulns(m map[string]*vuln.Vulnerability) {
	n := min(runtime.GOMAXPROCS(0), 8)
	if len(m) < parallelVulns || n < 2 || e.err != nil {
		writeMap(e, m, (*encoder).vuln)
		return
	}
	keys := slices.Sorted(maps.Keys(m))
	// More runs than cores: the first is written (and sent on) while the
	// others are still being encoded.
	runs := min(4*n, len(keys)/64)
	per := (len(keys) + runs - 1) / runs
	type part struct {
		b    []byte
		err  error
		done chan struct{}
	}
	parts := make([]*part, 0, runs)
	for range runs {
		parts = append(parts, &part{done: make(chan struct{})})
	}
	// Runs start in order, n at a time, so the first are done first.
	go func() {
		sem := make(chan struct{}, n)
		for r, p := range parts {
			run := keys[min(r*per, len(keys)):min((r+1)*per, len(keys))]
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; close(p.done) }()
				pe := &encoder{b: getBuf(len(run) * 1792),
					pkgs: map[*vuln.Package]string{}, dists: map[*vuln.Distribution]string{}}
				for j, k := range run {
					if j > 0 || r > 0 {
						pe.b = append(pe.b, ',')
					}
					pe.b = appendString(pe.b, k)
					pe.b = append(pe.b, ':')
					pe.vuln(m[k])
				}
				p.b, p.err = pe.b, pe.err
			}()
		}
	}()
	e.b = append(e.b, '{')
	for _, p := range parts {
		<-p.done
		if p.err != nil {
			e.fail(p.err)
		}
		e.flush()
		if e.err == nil {
			_, e.err = e.w.Write(p.b)
		}
		putBuf(p.b)
	}
	e.b = append(e.b, '}')
}

// partBufs recycles the runs' buffers: megabytes per large report that
// would otherwise be allocated, zeroed and collected for every first
// report a server answers.
var partBufs sync.Pool

// getBuf returns an empty buffer of at least n bytes' capacity, about the
// size of a run (a vulnerability encodes to 1.6 KB on average).
func getBuf(n int) []byte {
	if b, ok := partBufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:0]
	}
	return make([]byte, 0, n)
}

func putBuf(b []byte) {
	partBufs.Put(&b)
}

func (e *encoder) pkg(p *vuln.Package) {
	if p == nil {
		e.b = append(e.b, "null"...)
		return
	}
	b := append(e.b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"version":`...)
	b = appendString(b, p.Version)
	b = appendOpt(b, `,"kind":`, p.Kind)
	e.b = b
	if p.Source != nil {
		e.b = append(e.b, `,"source":`...)
		e.pkg(p.Source)
	}
	b = e.b
	b = appendOpt(b, `,"normalized_version":`, p.NormalizedVer)
	b = appendOpt(b, `,"module":`, p.Module)
	b = appendOpt(b, `,"arch":`, p.Arch)
	b = appendOpt(b, `,"cpe":`, p.CPE)
	b = appendOpt(b, `,"package_db":`, p.PackageDB)
	b = appendOpt(b, `,"repository_hint":`, p.RepositoryHint)
	b = appendOpt(b, `,"ecosystem":`, p.Ecosystem)
	b = appendOpt(b, `,"purl":`, p.Purl)
	b = appendOpt(b, `,"path":`, p.Path)
	if p.Dev {
		b = append(b, `,"dev":true`...)
	}
	e.b = append(b, '}')
}

func (e *encoder) dist(d *vuln.Distribution) {
	if d == nil {
		e.b = append(e.b, "null"...)
		return
	}
	b := append(e.b, `{"id":`...)
	b = appendString(b, d.ID)
	b = append(b, `,"did":`...)
	b = appendString(b, d.DID)
	b = append(b, `,"name":`...)
	b = appendString(b, d.Name)
	b = append(b, `,"version":`...)
	b = appendString(b, d.Version)
	b = append(b, `,"version_code_name":`...)
	b = appendString(b, d.VersionCodeName)
	b = append(b, `,"version_id":`...)
	b = appendString(b, d.VersionID)
	b = append(b, `,"arch":`...)
	b = appendString(b, d.Arch)
	b = append(b, `,"cpe":`...)
	b = appendString(b, d.CPE)
	b = append(b, `,"pretty_name":`...)
	b = appendString(b, d.PrettyName)
	e.b = append(b, '}')
}

func (e *encoder) repo(r *vuln.Repository) {
	if r == nil {
		e.b = append(e.b, "null"...)
		return
	}
	b := append(e.b, `{"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, r.Name)
	b = appendOpt(b, `,"key":`, r.Key)
	b = appendOpt(b, `,"uri":`, r.URI)
	b = appendOpt(b, `,"cpe":`, r.CPE)
	e.b = append(b, '}')
}

func (e *encoder) envs(es []*vuln.Environment) {
	if es == nil {
		e.b = append(e.b, "null"...)
		return
	}
	b := append(e.b, '[')
	for i, env := range es {
		if i > 0 {
			b = append(b, ',')
		}
		if env == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, `{"package_db":`...)
		b = appendString(b, env.PackageDB)
		b = append(b, `,"introduced_in":`...)
		b = appendString(b, env.IntroducedIn)
		b = append(b, `,"distribution_id":`...)
		b = appendString(b, env.DistributionID)
		b = append(b, `,"repository_ids":`...)
		b = appendStrings(b, env.RepositoryIDs)
		b = append(b, '}')
	}
	e.b = append(b, ']')
}

func (e *encoder) vuln(v *vuln.Vulnerability) {
	if v == nil {
		e.b = append(e.b, "null"...)
		return
	}
	b := append(e.b, `{"id":`...)
	b = appendString(b, v.ID)
	b = append(b, `,"updater":`...)
	b = appendString(b, v.Updater)
	b = append(b, `,"name":`...)
	b = appendString(b, v.Name)
	b = append(b, `,"description":`...)
	b = appendString(b, v.Description)
	if !v.Issued.IsZero() {
		b = append(b, `,"issued":`...)
		if y := v.Issued.Year(); y < 0 || y >= 10000 {
			// encoding/json fails here too (Time.MarshalJSON).
			e.b = b
			e.fail(fmt.Errorf("vulnerability %s: issued: year %d outside of range [0,9999]", v.ID, y))
			return
		}
		b = append(b, '"')
		b = v.Issued.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"links":`...)
	b = appendString(b, v.Links)
	b = append(b, `,"severity":`...)
	b = appendString(b, v.Severity)
	b = append(b, `,"normalized_severity":`...)
	b = appendString(b, v.NormalizedSeverity.String())
	b = append(b, `,"package":`...)
	e.b = b
	memo(e, e.pkgs, v.Package, (*encoder).pkg)
	e.b = append(e.b, `,"distribution":`...)
	memo(e, e.dists, v.Distribution, (*encoder).dist)
	e.b = append(e.b, `,"repository":`...)
	e.repo(v.Repository)
	b = append(e.b, `,"fixed_in_version":`...)
	b = appendString(b, v.FixedInVersion)
	b = appendOpt(b, `,"state":`, v.State)
	if len(v.Aliases) > 0 {
		b = append(b, `,"aliases":`...)
		b = appendStrings(b, v.Aliases)
	}
	b = appendOpt(b, `,"severity_source":`, v.SeveritySource)
	e.b = append(b, '}')
}

// memo writes p as value does, once per pointer, copying it afterwards.
func memo[T any](e *encoder, seen map[*T]string, p *T, value func(*encoder, *T)) {
	if p == nil {
		e.b = append(e.b, "null"...)
		return
	}
	if s, ok := seen[p]; ok {
		e.b = append(e.b, s...)
		return
	}
	n := len(e.b)
	value(e, p)
	seen[p] = string(e.b[n:])
}

// anys writes enrichment records, whose shapes the enrichers choose, with
// encoding/json itself, but for the shape of the CVSS enrichment as the
// matcher makes it (a map of lists of raw objects, megabytes of them for a
// large report): written here, each object as it is when jsonscan finds it
// compact JSON, as json.Compact makes it otherwise (encoding/json's own
// treatment of a json.RawMessage).
func (e *encoder) anys(vs []any) {
	if vs == nil {
		e.b = append(e.b, "null"...)
		return
	}
	if len(vs) == 1 {
		if m, ok := vs[0].(map[string][]json.RawMessage); ok {
			e.b = append(e.b, '[')
			e.rawLists(m)
			e.b = append(e.b, ']')
			return
		}
	}
	w := &appendWriter{b: e.b}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vs); err != nil {
		e.fail(err)
		return
	}
	e.b = w.b[:len(w.b)-1] // Encode's newline
}

// rawLists writes m as encoding/json does: keys sorted, a nil list as
// null, each message compacted (and checked).
func (e *encoder) rawLists(m map[string][]json.RawMessage) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, k)
		e.b = append(e.b, ':')
		l := m[k]
		if l == nil {
			e.b = append(e.b, "null"...)
			continue
		}
		e.b = append(e.b, '[')
		for j, raw := range l {
			if j > 0 {
				e.b = append(e.b, ',')
			}
			switch valid, compact := jsonscan.Scan(raw); {
			case raw == nil:
				e.b = append(e.b, "null"...) // RawMessage's MarshalJSON
			case compact:
				e.b = append(e.b, raw...)
			case valid:
				var c bytes.Buffer
				_ = json.Compact(&c, raw) // valid: it cannot fail
				e.b = append(e.b, c.Bytes()...)
			default:
				e.fail(fmt.Errorf("json: error calling MarshalJSON for type json.RawMessage: %q is not JSON", raw))
				return
			}
		}
		e.b = append(e.b, ']')
	}
	e.b = append(e.b, '}')
}

func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func appendOpt(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return appendString(b, s)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hex = "0123456789abcdef"

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// appendString quotes s exactly as encoding/json does without HTML
// escaping: control characters, '"' and '\\' escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while all are printable ASCII other
		// than '"' and '\\' (copied as they are), with the classic "has a
		// byte less than n" and "has a zero byte" bit tricks; written out
		// here, as a function it would not be inlined.
		for i+8 <= len(s) {
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			q := x ^ ('"' * ones)
			bs := x ^ ('\\' * ones)
			if ((x-0x20*ones)&^x|(q-ones)&^q|(bs-ones)&^bs|x)&high != 0 {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
