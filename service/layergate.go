package service

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// DefaultLayerReadsPerCPU sizes a LayerGate's bound when it is not given:
// a layer read is a fetch (network) and a scan (CPU) at once.
const DefaultLayerReadsPerCPU = 2

// LayerGate is index.Indexer's Gate: it makes the reads of one layer
// digest wait for each other, so that fifty manifests sharing an uncached
// base layer fetch and scan it once (the others find it cached when their
// turn comes), and bounds the layers read at once in the process, so that
// many requests cannot open unbounded connections and scans.
type LayerGate struct {
	// Locks, when set, is the store's lock, so that instances sharing the
	// store also read a digest once between them.
	Locks Locker
	// Max bounds the layers read at once in this process; 0 means
	// DefaultLayerReadsPerCPU a CPU.
	Max int

	once  sync.Once
	slots chan struct{}
	mu    sync.Mutex
	keys  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds a token while the key is held
	refs int
}

// Run runs read while holding the digest's lock (in the process, then in
// the store) and a read slot.
func (g *LayerGate) Run(ctx context.Context, layer string, read func(ctx context.Context) error) error {
	g.once.Do(func() {
		n := g.Max
		if n <= 0 {
			n = DefaultLayerReadsPerCPU * runtime.GOMAXPROCS(0)
		}
		g.slots = make(chan struct{}, n)
		g.keys = map[string]*keyLock{}
	})
	// In the process first: waiters hold no database connection.
	g.mu.Lock()
	k := g.keys[layer]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		g.keys[layer] = k
	}
	k.refs++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(g.keys, layer)
		}
		g.mu.Unlock()
	}()
	select {
	case k.ch <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-k.ch }()
	if g.Locks != nil {
		unlock, err := g.Locks.Lock(ctx, "layer:"+layer)
		if err != nil {
			return fmt.Errorf("layer %s: lock: %w", layer, err)
		}
		defer unlock()
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.slots }()
	return read(ctx)
}
