// Package wolfi is a feed plugin written outside the clair module, as a
// company would write one for a distribution clair does not ship: Wolfi's
// (Chainguard's) security database, the secdb JSON that
// https://packages.wolfi.dev/os/security.json serves.
//
// Importing it registers the feed "wolfi" and the namespace of images whose
// os-release says ID=wolfi. Wolfi packages are apk packages, so the shipped
// apk scanner and version scheme do the rest.
package wolfi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// DefaultURL is Wolfi's security database.
const DefaultURL = "https://packages.wolfi.dev/os/security.json"

// Namespace is the one namespace of Wolfi, a rolling distribution.
const Namespace = "wolfi:rolling"

// MaxSize bounds the snapshot: the real file is a few MB.
const MaxSize = 256 << 20

// Feed reads Wolfi's secdb. Its one setting (updaters.config.wolfi.namespace)
// lets a derived distribution reuse the plugin; it is here to show how a
// plugin takes settings from the server's config.
type Feed struct {
	Namespace string `yaml:"namespace"`
}

var (
	_ feed.Feed         = Feed{}
	_ feed.Configurable = Feed{}
)

func init() {
	feed.Register(Feed{Namespace: Namespace})
	vuln.RegisterNamespace("wolfi", func(*vuln.Distribution) string { return Namespace })
}

// Name implements feed.Feed.
func (Feed) Name() string { return "wolfi" }

// DefaultURL implements feed.Feed.
func (Feed) DefaultURL() string { return DefaultURL }

// Configure implements feed.Configurable.
func (f Feed) Configure(decode func(any) error) (feed.Feed, error) {
	if err := decode(&f); err != nil {
		return nil, err
	}
	if f.Namespace == "" {
		return nil, errors.New("updaters.config.wolfi.namespace: empty")
	}
	return f, nil
}

// Fetch implements feed.Feed through the shared fetcher: HTTP with ETag and
// Last-Modified, file:// for offline copies, one request when unchanged.
func (Feed) Fetch(ctx context.Context, c *http.Client, url, prev string, dst io.Writer) (string, error) {
	return feed.Get(ctx, c, url, prev, limit.Writer(dst, MaxSize))
}

// Parse implements feed.Feed. It streams the "packages" array one package
// at a time, so memory follows the largest package, not the file.
func (f Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	dec := json.NewDecoder(io.NewSectionReader(snap, 0, size))
	fail := func(what string, err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("wolfi: security.json: %s (offset %d): %w", what, dec.InputOffset(), err)
	}
	if err := delim(dec, '{'); err != nil {
		return fail("top level", err)
	}
	packages := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("top level", err)
		}
		key, _ := tok.(string)
		if key != "packages" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(key, err)
			}
			continue
		}
		if err := delim(dec, '['); err != nil {
			return fail("packages", err)
		}
		for i := 0; dec.More(); i++ {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("wolfi: %w", err)
			}
			var p struct {
				Pkg struct {
					Name     string              `json:"name"`
					Secfixes map[string][]string `json:"secfixes"`
				} `json:"pkg"`
			}
			if err := dec.Decode(&p); err != nil {
				return fail(fmt.Sprintf("packages[%d]", i), err)
			}
			if p.Pkg.Name == "" {
				return fail(fmt.Sprintf("packages[%d].pkg.name", i), errors.New("empty"))
			}
			if err := f.emitPackage(p.Pkg.Name, p.Pkg.Secfixes, emit); err != nil {
				return err
			}
			packages++
		}
		if err := delim(dec, ']'); err != nil {
			return fail("packages", err)
		}
	}
	if err := delim(dec, '}'); err != nil {
		return fail("top level", err)
	}
	if packages == 0 {
		// An empty snapshot would silently wipe every Wolfi advisory.
		return errors.New("wolfi: security.json: no packages")
	}
	return nil
}

var idRE = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,}|GHSA(-[0-9a-z]{4}){3})$`)

func (f Feed) emitPackage(pkg string, secfixes map[string][]string, emit func(*vuln.Advisory) error) error {
	versions := make([]string, 0, len(secfixes))
	for v := range secfixes {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	for _, ver := range versions {
		for _, entry := range secfixes[ver] {
			for _, id := range strings.Fields(entry) {
				if !idRE.MatchString(id) {
					continue // notes and placeholders: nothing to match
				}
				a := &vuln.Advisory{
					Name:          id,
					Namespace:     f.Namespace,
					Package:       pkg,
					VersionFormat: "apk",
					Links:         []string{"https://images.chainguard.dev/security/" + id},
				}
				if ver == "0" { // Wolfi's (and Alpine's) "never affected"
					a.State = vuln.StateNotAffected
				} else {
					a.State = vuln.StateAffected
					a.Ranges = []vuln.Range{{Fixed: ver}}
					a.FixedIn = ver
				}
				if err := emit(a); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func delim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("got %v, want %q", tok, string(want))
	}
	return nil
}
