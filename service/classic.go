package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/store"
	"github.com/openclair/clair/vuln"
)

// ClassicPrefix keys the classic API's layers: a layer named N is kept as
// the index report of the pseudo manifest "v1layer:N", whose Layers are
// its chain's keys, and its scans are cached under that key.
const ClassicPrefix = "v1layer:"

// MaxClassicChain bounds a classic layer's chain of parents, as the v4
// API bounds a manifest's layers: each POST indexes the whole chain (from
// the cache), so an unbounded chain is unbounded work per request.
const MaxClassicChain = 1000

// ClassicLayer is a layer posted to the classic API.
type ClassicLayer struct {
	Name       string
	Path       string
	Headers    map[string]string
	ParentName string
	Format     string
}

// Opener streams a blob whose digest is not known (the classic API names
// layers, not digests).
type Opener interface {
	Open(ctx context.Context, uri string, headers map[string][]string) (io.ReadCloser, error)
}

func (l *ClassicLayer) check() error {
	switch {
	case l == nil:
		return errkind.New(errkind.Invalid, "Layer: missing")
	case l.Name == "":
		return errkind.New(errkind.Invalid, "Layer.Name: empty")
	case l.Path == "":
		return errkind.New(errkind.Invalid, "Layer.Path: empty")
	case l.Name == l.ParentName:
		return errkind.New(errkind.Invalid, "Layer.ParentName: a layer cannot be its own parent")
	}
	switch strings.ToLower(l.Format) {
	case "", "docker", "oci":
	default:
		return errkind.New(errkind.Invalid, fmt.Sprintf("Layer.Format: %q is not Docker or OCI", l.Format))
	}
	return nil
}

// IndexClassic indexes a classic layer: its chain is its parent's plus
// itself, the parents' scans come from the cache (they were scanned when
// posted), and only this layer is fetched. It goes through the same
// dedup, locks, slots, deadline and metrics as Index.
func (s *Indexer) IndexClassic(ctx context.Context, l *ClassicLayer) (*vuln.IndexReport, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	op, ok := s.Fetcher.(Opener)
	if !ok {
		return nil, errors.New("classic: the fetcher cannot open layers by URI")
	}
	var chain []string
	if l.ParentName != "" {
		parent, err := s.Store.IndexReport(ctx, ClassicPrefix+l.ParentName)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errkind.Wrap(errkind.Invalid, fmt.Sprintf("Layer.ParentName: layer %q is unknown: post it first", l.ParentName), err)
		} else if err != nil {
			return nil, err
		}
		chain = append(chain, parent.Layers...)
	}
	key := ClassicPrefix + l.Name
	chain = append(chain, key)
	if len(chain) > MaxClassicChain {
		return nil, errkind.New(errkind.Invalid, fmt.Sprintf("Layer.ParentName: the chain would have %d layers, more than the limit of %d", len(chain), MaxClassicChain))
	}
	headers := map[string][]string{}
	for k, v := range l.Headers {
		headers[k] = []string{v}
	}
	r, _, err := s.once(ctx, key, nil, func(ctx context.Context) (*vuln.IndexReport, error) {
		img := &image.Image{Ref: "v1:" + l.Name, ManifestDigest: key}
		for _, k := range chain {
			if k == key {
				uri := l.Path
				img.Layers = append(img.Layers, image.NewLayer(k, "", 0, func(ctx context.Context) (io.ReadCloser, error) {
					return op.Open(ctx, uri, headers)
				}))
				continue
			}
			// Parents were scanned when they were posted: their scans
			// are in the layer cache, and open is never called unless
			// the scanners changed since.
			name := strings.TrimPrefix(k, ClassicPrefix)
			img.Layers = append(img.Layers, image.NewLayer(k, "", 0, func(context.Context) (io.ReadCloser, error) {
				return nil, errkind.New(errkind.Conflict, fmt.Sprintf("layer %q was scanned by other scanners: post it again", name))
			}))
		}
		rep, err := s.Indexer.Index(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("classic layer %s: %w", l.Name, err)
		}
		rep.ManifestHash = key
		rep.Layers = chain
		rep.IndexState = s.State()
		if err := s.Store.PutIndexReport(ctx, rep); err != nil {
			return nil, fmt.Errorf("classic layer %s: store: %w", l.Name, err)
		}
		return rep, nil
	})
	return r, err
}

// ClassicReport returns the stored report of a classic layer.
func (s *Indexer) ClassicReport(ctx context.Context, name string) (*vuln.IndexReport, error) {
	r, err := s.Store.IndexReport(ctx, ClassicPrefix+name)
	if err != nil {
		return nil, storeError(fmt.Sprintf("layer %q", name), err)
	}
	return r, nil
}

// DeleteClassic deletes a classic layer's report (NotFound when none).
func (s *Indexer) DeleteClassic(ctx context.Context, name string) error {
	deleted, err := s.Store.DeleteIndexReports(ctx, []string{ClassicPrefix + name})
	if err != nil {
		return err
	}
	if len(deleted) == 0 {
		return errkind.New(errkind.NotFound, fmt.Sprintf("layer %q not found", name))
	}
	return nil
}
