// Package rhel finds the Red Hat repositories an image's rpms came from.
// Red Hat's build system writes a content manifest into every image it
// builds (root/buildinfo/content_manifests/<component>.json) listing the
// "content sets" (repositories such as rhel-9-for-x86_64-baseos-rpms) the
// layer's packages were installed from. Red Hat's VEX data names product
// streams by CPE, and Red Hat publishes the content set to CPE mapping as
// repository-to-cpe.json.
//
// The scanner records every content set as a repository (Key
// RepositoryKey, Name the content set) and fills in the CPEs an embedded
// copy of the mapping gives, one repository per content set and CPE (a
// content set the copy does not know is recorded without a CPE). The
// mapping that counts is applied at match time: the matcher replaces the
// recorded CPEs with those the redhat-repo2cpe feed (feed/repo2cpe) stores
// for the content set, so reports follow Red Hat's current mapping without
// re-indexing. The recorded CPEs are the fallback where that feed never ran
// (an offline clairctl scan, a deployment that does not enable it).
package rhel

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed" // the mapping
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// RepositoryKey marks the repositories this scanner records, as claircore
// marks its Red Hat CPE repositories.
const RepositoryKey = vuln.RedHatRepositoryKey

// manifestDir holds the content manifests.
const manifestDir = "root/buildinfo/content_manifests/"

// maxManifest bounds one content manifest; real ones are a few kilobytes
// (they may list the image's contents, which keeps them far below this).
const maxManifest = 16 << 20

// maxMapping bounds the decompressed mapping (2 MB in 2023).
const maxMapping = 256 << 20

// defaultMapping is Red Hat's repository-to-cpe.json
// (https://security.access.redhat.com/data/metrics/repository-to-cpe.json),
// gzipped. It is compiled in because the indexer runs without network
// access and must give the same answer every time it indexes a layer. It is
// only the fallback: the matcher prefers the current mapping the
// redhat-repo2cpe feed stores, so refreshing this copy matters only for
// matching without that feed (and the scanner's version should then be
// bumped, so that layers are indexed again). Scanner.MappingFile points at
// another copy.
//
//go:embed repository-to-cpe.json.gz
var defaultMapping []byte

// Scanner reads content manifests. Its zero value uses the embedded mapping.
type Scanner struct {
	// MappingFile is a repository-to-cpe.json (plain or gzipped) to use
	// instead of the embedded copy.
	MappingFile string

	once    sync.Once
	mapping map[string][]string
	err     error
}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "rhel-content-manifest" }

// Version implements scanner.Scanner. Version 2 records content sets the
// mapping does not know (without a CPE), for the matcher to map.
func (*Scanner) Version() string { return "2" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindRepository }

// Wants implements scanner.Scanner.
func (*Scanner) Wants(p string) bool {
	name, ok := strings.CutPrefix(p, manifestDir)
	return ok && !strings.Contains(name, "/") && strings.HasSuffix(name, ".json")
}

// manifest is the part of a content manifest the scanner reads.
type manifest struct {
	ContentSets []string `json:"content_sets"`
}

// Scan implements scanner.Scanner.
func (s *Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rhel: %s: %w", f.Path, err)
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	var man manifest
	if err := json.NewDecoder(scanner.LimitReader(f.R, maxManifest)).Decode(&man); err != nil {
		// A damaged manifest costs the layer its repositories, not its
		// index: matching then treats its packages as of unknown origin.
		return &scanner.Result{Warnings: []string{fmt.Sprintf("rhel: %s: content manifest skipped: %s", f.Path, scanner.Clip(err.Error()))}}, nil
	}
	res := &scanner.Result{}
	sets := make([]string, 0, len(man.ContentSets))
	for _, cs := range man.ContentSets {
		if cs = strings.TrimSpace(cs); cs != "" {
			sets = append(sets, cs)
		}
	}
	slices.Sort(sets)
	sets = slices.Compact(sets)
	for _, cs := range sets {
		cpes := m[cs]
		if len(cpes) == 0 {
			// Newer than the embedded mapping: the matcher maps it with
			// the redhat-repo2cpe feed's rows, when that has any.
			res.Repositories = append(res.Repositories, &vuln.Repository{Name: cs, Key: RepositoryKey})
			continue
		}
		for _, c := range cpes {
			res.Repositories = append(res.Repositories, &vuln.Repository{Name: cs, Key: RepositoryKey, CPE: c})
		}
	}
	return res, nil
}

// load reads the mapping once.
func (s *Scanner) load() (map[string][]string, error) {
	s.once.Do(func() {
		b := defaultMapping
		name := "embedded repository-to-cpe.json.gz"
		if s.MappingFile != "" {
			name = s.MappingFile
			if b, s.err = os.ReadFile(s.MappingFile); s.err != nil {
				s.err = fmt.Errorf("rhel: mapping: %w", s.err)
				return
			}
		}
		s.mapping, s.err = ParseMapping(name, b)
	})
	return s.mapping, s.err
}

// ParseMapping reads a repository-to-cpe.json, plain or gzipped:
// {"data": {"<content set>": {"cpes": [...], "repo_relative_urls": [...]}}}.
func ParseMapping(name string, b []byte) (map[string][]string, error) {
	var r io.Reader = bytes.NewReader(b)
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) || path.Ext(name) == ".gz" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("rhel: %s: %w", name, err)
		}
		r = zr
	}
	var doc struct {
		Data map[string]struct {
			CPEs []string `json:"cpes"`
		} `json:"data"`
	}
	if err := json.NewDecoder(scanner.LimitReader(r, maxMapping)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("rhel: %s: %w", name, err)
	}
	if len(doc.Data) == 0 {
		return nil, fmt.Errorf("rhel: %s: no content sets under \"data\"", name)
	}
	m := make(map[string][]string, len(doc.Data))
	for cs, v := range doc.Data {
		m[cs] = v.CPEs
	}
	return m, nil
}
