// Package index reads an image's layers once each, hands the files the
// scanners want to them, applies whiteouts and symlinks across layers, and
// builds the IndexReport. What each scanner found in each layer is cached
// by layer digest, scanner name and scanner version, so a layer shared by
// many images is read once.
package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// LayerStore is the subset of store.Store the indexer uses.
type LayerStore interface {
	LayerScan(ctx context.Context, layer, scanner, version string) ([]byte, bool, error)
	PutLayerScan(ctx context.Context, layer, scanner, version string, data []byte) error
}

// Indexer indexes images. Its fields are read-only once Index is called;
// one Indexer may index several images at once. Layers are read in
// parallel, so a scanner's Scan may be called from several goroutines at
// once (for different layers).
type Indexer struct {
	Store       LayerStore // nil = no cache
	Scanners    []scanner.Scanner
	Concurrency int // layers indexed at once; <=0 means runtime.GOMAXPROCS(0)
	// Options bound what one layer and one image may cost; the zero
	// value means the documented defaults.
	Options Options
}

// Index reads the image's layers (those not already cached) and returns what
// is installed in the image as its top layer shows it. An error names the
// layer it came from.
func (ix *Indexer) Index(ctx context.Context, img *image.Image) (*vuln.IndexReport, error) {
	if img == nil {
		return nil, errors.New("index: nil image")
	}
	if err := checkScanners(ix.Scanners); err != nil {
		return nil, err
	}
	views := make([]*layerView, len(img.Layers))
	if len(ix.Scanners) > 0 {
		n := ix.Concurrency
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		for i, l := range img.Layers {
			if l == nil {
				return nil, fmt.Errorf("index: layer %d is nil", i)
			}
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(n)
		imgBudget := scanner.NewBudget("image", ix.Options.maxImageBytes(), nil)
		for i, l := range img.Layers {
			g.Go(func() error {
				v, err := ix.indexLayer(gctx, l, imgBudget)
				if err != nil {
					return layerError(l, err)
				}
				views[i] = v
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	} else {
		for i, l := range img.Layers {
			views[i] = &layerView{digest: l.Digest, name: layerName(l)}
		}
	}
	return buildReport(img, ix.Scanners, views, ix.Options)
}

func checkScanners(ss []scanner.Scanner) error {
	seen := map[string]bool{}
	for i, s := range ss {
		if s == nil {
			return fmt.Errorf("index: scanner %d is nil", i)
		}
		n := s.Name()
		if n == layerScanner {
			return fmt.Errorf("index: scanner name %q is reserved for the indexer's own layer records", n)
		}
		if seen[n] {
			return fmt.Errorf("index: two scanners named %q", n)
		}
		seen[n] = true
	}
	return nil
}

func layerName(l *image.Layer) string {
	if l.Digest != "" {
		return l.Digest
	}
	if l.Dir != "" {
		return l.Dir
	}
	return "(unnamed)"
}

// layerError names the layer, unless the error already starts by naming it
// (the image package's read errors do).
func layerError(l *image.Layer, err error) error {
	var le *image.LayerError
	if errors.As(err, &le) && strings.HasPrefix(err.Error(), "layer "+layerName(l)+": ") {
		return fmt.Errorf("index: %w", err)
	}
	return fmt.Errorf("index: layer %s: %w", layerName(l), err)
}

// indexLayer gets what every scanner found in the layer: from the cache
// where it can, and otherwise by reading the layer once for all the
// scanners the cache lacks.
func (ix *Indexer) indexLayer(ctx context.Context, l *image.Layer, imgBudget *scanner.Budget) (*layerView, error) {
	v := &layerView{digest: l.Digest, name: layerName(l), scans: make(map[string]*scanRecord, len(ix.Scanners))}
	budget := scanner.NewBudget("layer", ix.Options.maxLayerBytes(), imgBudget)
	if l.Dir != "" {
		w := newWalker(ix.Scanners, layerName(l), ix.Options, budget)
		if err := walkDir(ctx, l.Dir, w); err != nil {
			return nil, err
		}
		w.finish()
		v.fill(w, ix.Scanners)
		return v, nil
	}
	cache := ix.Store != nil && l.Digest != ""
	missing := ix.Scanners
	needLayer := true
	if cache {
		missing = nil
		for _, s := range ix.Scanners {
			b, ok, err := ix.Store.LayerScan(ctx, l.Digest, s.Name(), s.Version())
			if err != nil {
				return nil, fmt.Errorf("cache: %w", err)
			}
			if ok {
				// A record that does not decode (written by another
				// format) is a miss, and is overwritten below.
				if rec, ok := decodeScanRecord(b); ok {
					v.scans[s.Name()] = rec
					continue
				}
			}
			missing = append(missing, s)
		}
		b, ok, err := ix.Store.LayerScan(ctx, l.Digest, layerScanner, layerScannerVersion)
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		if ok {
			if rec, ok := decodeLayerRecord(b); ok {
				v.setLayer(rec)
				needLayer = false
			}
		}
		if len(missing) == 0 && !needLayer {
			return v, nil
		}
	}
	rc, err := l.Uncompressed(ctx)
	if err != nil {
		return nil, err
	}
	w := newWalker(missing, layerName(l), ix.Options, budget)
	err = walkTar(ctx, rc, w)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	w.finish()
	v.fill(w, missing)
	// What the image's budget refused depends on the other layers of
	// this image: not a result to share with other images.
	if !cache || budget.RefusedByParent() {
		return v, nil
	}
	for i, s := range missing {
		b, err := json.Marshal(w.recs[i])
		if err != nil {
			return nil, fmt.Errorf("scanner %s: encoding results: %w", s.Name(), err)
		}
		if err := ix.Store.PutLayerScan(ctx, l.Digest, s.Name(), s.Version(), b); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	if needLayer {
		b, err := json.Marshal(w.layerRecord())
		if err != nil {
			return nil, err
		}
		if err := ix.Store.PutLayerScan(ctx, l.Digest, layerScanner, layerScannerVersion, b); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	return v, nil
}
