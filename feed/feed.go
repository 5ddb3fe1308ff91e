// Package feed defines the vulnerability feeds and their registry. A feed
// splits Fetch (network, fingerprint, raw bytes kept whole) from Parse (bytes
// to advisories, no network): that seam gives mirrors, offline bundles and
// network-free tests.
package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"

	"github.com/openclair/clair/vuln"
)

// ErrUnchanged is returned by Fetch when the upstream data is the one the
// previous fingerprint describes. dst may hold a partial or complete copy
// (a server without validators is checked by content hash after the
// download); callers discard it.
var ErrUnchanged = errors.New("feed: unchanged")

// Feed is one upstream source of advisories.
type Feed interface {
	// Name is unique among feeds: "debian", "alpine", "ubuntu", ...
	Name() string
	// DefaultURL is the upstream location; users may point at a mirror or a
	// file:// copy instead.
	DefaultURL() string
	// Fetch downloads the snapshot at url into dst, unless prev (the
	// fingerprint of the stored snapshot, "" for none) shows it unchanged, in
	// which case it returns ErrUnchanged having made one cheap request. The
	// returned fingerprint is opaque to callers.
	Fetch(ctx context.Context, c *http.Client, url, prev string, dst io.Writer) (fingerprint string, err error)
	// Parse turns a snapshot Fetch wrote into advisories, calling emit for
	// each. It streams: memory must not grow with the snapshot's size beyond
	// what one record needs. Errors name the record or field.
	Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error
}

var (
	mu       sync.RWMutex
	registry = map[string]Feed{}
)

// Register makes a feed available to cmd/ binaries. It panics on nil or a
// duplicate name.
func Register(f Feed) {
	if f == nil {
		panic("feed: Register of nil feed")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[f.Name()]; dup {
		panic(fmt.Sprintf("feed: Register called twice for %q", f.Name()))
	}
	registry[f.Name()] = f
}

// All returns the registered feeds sorted by name.
func All() []Feed {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Feed, 0, len(registry))
	for _, f := range registry {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Lookup returns the registered feed of that name.
func Lookup(name string) (Feed, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := registry[name]
	return f, ok
}
