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

	"golang.org/x/sync/errgroup"

	"github.com/openclair/clair/errkind"
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
	// Gate, when set, runs the read of each layer the cache lacks: the
	// caller makes concurrent reads of one digest wait for each other (in
	// this process and across instances sharing the store) and bounds the
	// layers read at once. read looks the cache up again first, so a
	// waiter that finds the layer scanned meanwhile reads nothing.
	Gate func(ctx context.Context, layer string, read func(ctx context.Context) error) error
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

// layerError names the layer (unless the image package's error already
// does) and keeps the error's kind; its public message names the layer too.
func layerError(l *image.Layer, err error) error {
	inner := err
	if !namesLayer(err, layerName(l)) {
		inner = fmt.Errorf("layer %s: %w", layerName(l), err)
	}
	return errkind.Wrap(errkind.Of(err), "layer "+layerName(l)+": "+errkind.Public(err), fmt.Errorf("index: %w", inner))
}

// namesLayer reports whether err is, under its kind, the image package's
// error for the layer: then its text starts by naming it.
func namesLayer(err error, name string) bool {
	for {
		if e, ok := err.(*errkind.Error); ok && e.Err != nil {
			err = e.Err
			continue
		}
		le, ok := err.(*image.LayerError)
		return ok && le.Digest == name
	}
}

// contentError marks what reading a layer's bytes failed on as the
// layer's fault (a path escaping the root, a tar or gzip that does not
// decode) unless it already has a kind: a source's failure, a timeout, the
// caller gone.
func contentError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errkind.Explicit(err); ok {
		return err
	}
	if k := errkind.Of(err); k == errkind.Canceled || k == errkind.Timeout {
		return err
	}
	return errkind.Wrap(errkind.BadContent, err.Error(), err)
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
	if ix.Store == nil || l.Digest == "" {
		return v, ix.readLayer(ctx, l, v, budget, ix.Scanners, false, false)
	}
	missing, needLayer, err := ix.cached(ctx, l, v)
	if err != nil || len(missing) == 0 && !needLayer {
		return v, err
	}
	if ix.Gate == nil {
		return v, ix.readLayer(ctx, l, v, budget, missing, needLayer, true)
	}
	err = ix.Gate(ctx, l.Digest, func(ctx context.Context) error {
		missing, needLayer, err := ix.cached(ctx, l, v)
		if err != nil || len(missing) == 0 && !needLayer {
			return err
		}
		return ix.readLayer(ctx, l, v, budget, missing, needLayer, true)
	})
	return v, err
}

// cached fills v from the cache and says what it lacks: the scanners
// without a record, and whether the layer's own record is missing.
func (ix *Indexer) cached(ctx context.Context, l *image.Layer, v *layerView) (missing []scanner.Scanner, needLayer bool, err error) {
	needLayer = true
	for _, s := range ix.Scanners {
		b, ok, err := ix.Store.LayerScan(ctx, l.Digest, s.Name(), s.Version())
		if err != nil {
			return nil, false, fmt.Errorf("cache: %w", err)
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
		return nil, false, fmt.Errorf("cache: %w", err)
	}
	if ok {
		if rec, ok := decodeLayerRecord(b); ok {
			v.setLayer(rec)
			needLayer = false
		}
	}
	return missing, needLayer, nil
}

// readLayer reads the layer once for the missing scanners and, with cache,
// stores what they found.
func (ix *Indexer) readLayer(ctx context.Context, l *image.Layer, v *layerView, budget *scanner.Budget, missing []scanner.Scanner, needLayer, cache bool) error {
	rc, err := l.Uncompressed(ctx)
	if err != nil {
		return contentError(err)
	}
	w := newWalker(missing, layerName(l), ix.Options, budget)
	err = walkTar(ctx, rc, w)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return contentError(err)
	}
	w.finish()
	v.fill(w, missing)
	// What the image's budget refused depends on the other layers of
	// this image: not a result to share with other images.
	if !cache || budget.RefusedByParent() {
		return nil
	}
	for i, s := range missing {
		b, err := json.Marshal(w.recs[i])
		if err != nil {
			return fmt.Errorf("scanner %s: encoding results: %w", s.Name(), err)
		}
		if err := ix.Store.PutLayerScan(ctx, l.Digest, s.Name(), s.Version(), b); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
	}
	if needLayer {
		b, err := json.Marshal(w.layerRecord())
		if err != nil {
			return err
		}
		if err := ix.Store.PutLayerScan(ctx, l.Digest, layerScanner, layerScannerVersion, b); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
	}
	return nil
}
