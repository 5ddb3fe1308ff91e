package notify

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/openclair/clair/config"
)

// DelivererFactory builds a mechanism's Deliverer from the configuration. It
// returns nil, nil when its mechanism is not configured.
type DelivererFactory func(ctx context.Context, cfg *config.Config) (Deliverer, error)

// The registry is the one global: deliverer packages add themselves in
// init(), as database/sql drivers do, and the server imports the set it
// ships.
var (
	registryMu sync.RWMutex
	registry   = map[string]DelivererFactory{}
)

// RegisterDeliverer makes a delivery mechanism available under name. It
// panics if f is nil or name is taken: both are programming errors that
// must not wait for a configuration to show.
func RegisterDeliverer(name string, f func(ctx context.Context, cfg *config.Config) (Deliverer, error)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if f == nil {
		panic("notify: RegisterDeliverer " + name + ": nil factory")
	}
	if name == "" {
		panic("notify: RegisterDeliverer: empty name")
	}
	if _, dup := registry[name]; dup {
		panic("notify: RegisterDeliverer called twice for " + name)
	}
	registry[name] = f
}

// DelivererNames lists the registered mechanisms, sorted.
func DelivererNames() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewDeliverers builds the Deliverer of every registered mechanism that cfg
// configures, in name order. A factory's error is returned naming the
// mechanism, and nothing is returned with it.
func NewDeliverers(ctx context.Context, cfg *config.Config) ([]Deliverer, error) {
	var out []Deliverer
	for _, name := range DelivererNames() {
		registryMu.RLock()
		f := registry[name]
		registryMu.RUnlock()
		d, err := f(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("notify: deliverer %s: %w", name, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
	return out, nil
}
