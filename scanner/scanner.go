// Package scanner defines what the indexer hands files to, and the registry of
// scanners that cmd/ binaries import. A scanner never opens a layer itself: it
// says which paths it wants and receives those files' contents, so a layer is
// read exactly once whatever the number of scanners.
package scanner

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"

	"github.com/openclair/clair/vuln"
)

// Kind says what a scanner finds.
type Kind string

// Kinds of scanners.
const (
	KindPackage      Kind = "package"
	KindDistribution Kind = "distribution"
	KindRepository   Kind = "repository"
)

// Scanner reads the files it wants out of a layer.
type Scanner interface {
	// Name is unique among scanners ("dpkg", "apk", "distro", ...).
	Name() string
	// Version changes whenever the scanner's output for the same input may
	// change; layers indexed by an older version are scanned again.
	Version() string
	Kind() Kind
	// Wants is called once per layer entry with the entry's clean relative
	// path ("var/lib/dpkg/status", no leading slash or "./"). It must be cheap.
	Wants(path string) bool
	// Scan reads one wanted file. It must bound what it reads (a layer is
	// untrusted input) and name the file in its errors. An error fails the
	// layer's index; a problem worth a note but not a failure goes in
	// Result.Warnings.
	Scan(ctx context.Context, f File) (*Result, error)
}

// File is one wanted regular file of a layer.
type File struct {
	Path string
	Size int64
	Mode fs.FileMode
	// R streams the content; it is valid only during the Scan call.
	R io.Reader
	// RA, when not nil, reads the same Size bytes at any offset, during
	// the Scan call only. The indexer sets it for scanners that implement
	// RandomAccess (and whenever it holds the file anyway): the file is
	// then spooled once for all the scanners that want it, within the
	// layer's budget, and a scanner needs no copy of its own.
	RA io.ReaderAt
	// Budget is what the layer's scanners may still inflate or spool to
	// disk (nested archives, compressed sections); nil means no bound
	// beyond the scanner's own.
	Budget *Budget
	// MaxPackages, when > 0, is the most packages the indexer keeps from
	// this file (what is left of the layer's package limit): a scanner
	// may stop reading there, and should say so in a warning.
	MaxPackages int
}

// SniffLen is the most bytes Sniff is shown.
const SniffLen = 512

// Sniffer is implemented by scanners that can tell from a file's first
// bytes that it holds nothing for them (an executable scanner and a file
// that is no executable). The indexer then neither hands them the file nor
// keeps a copy for them: a 500 MiB file of zeros named bin/x costs its
// first bytes, not 500 MiB.
type Sniffer interface {
	// Sniff says whether Scan has anything to read in the file at path
	// whose first bytes are head (SniffLen of them, fewer only when the
	// file is shorter).
	Sniff(path string, head []byte) bool
}

// RandomAccess is implemented by scanners that read a file at offsets
// (archive/zip, debug/elf): the indexer gives them File.RA.
type RandomAccess interface {
	RandomAccess()
}

// Result is what one file told a scanner.
type Result struct {
	Packages     []*vuln.Package    `json:"packages,omitempty"`
	Distribution *vuln.Distribution `json:"distribution,omitempty"`
	Repositories []*vuln.Repository `json:"repositories,omitempty"`
	Warnings     []string           `json:"warnings,omitempty"`
	// Facts are what a file told that is not a package, for the scanner's
	// own Combine (a go.mod's go version, a requirements file's includes).
	Facts map[string]string `json:"facts,omitempty"`
}

// Combiner is implemented by scanners whose per-file results describe one
// thing together: the distribution scanner reads os-release, lsb-release and
// debian_version and returns one distribution. The indexer calls it with the
// results of the files visible in the final image (whiteouts applied,
// symlinks resolved), keyed by path.
type Combiner interface {
	Combine(results map[string]*Result) *Result
}

var (
	mu       sync.RWMutex
	registry = map[string]Scanner{}
)

// Register makes a scanner available to cmd/ binaries. It panics on a nil
// scanner or a duplicate name, as database/sql does for drivers.
func Register(s Scanner) {
	if s == nil {
		panic("scanner: Register of nil scanner")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[s.Name()]; dup {
		panic(fmt.Sprintf("scanner: Register called twice for %q", s.Name()))
	}
	registry[s.Name()] = s
}

// All returns the registered scanners sorted by name.
func All() []Scanner {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Scanner, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Configurable is implemented by scanners that take settings of their own
// from the server's config (`indexer.scanner.<kind>.<name>`, as Clair
// writes it). Configure decodes them with decode, which refuses unknown
// keys, and returns the configured scanner; the registered value is left as
// it is. A setting that changes the scanner's output must change its
// Version, so that layers are indexed again.
type Configurable interface {
	Configure(decode func(v any) error) (Scanner, error)
}
