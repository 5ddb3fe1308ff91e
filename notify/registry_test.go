package notify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/config"
)

type namedDeliverer string

func (n namedDeliverer) Name() string                          { return string(n) }
func (namedDeliverer) Deliver(context.Context, Delivery) error { return nil }

// withRegistry runs f against an empty registry and puts the real one back.
func withRegistry(t *testing.T, f func()) {
	registryMu.Lock()
	saved := registry
	registry = map[string]DelivererFactory{}
	registryMu.Unlock()
	t.Cleanup(func() {
		registryMu.Lock()
		registry = saved
		registryMu.Unlock()
	})
	f()
}

func TestRegistry(t *testing.T) {
	withRegistry(t, func() {
		RegisterDeliverer("b-configured", func(_ context.Context, cfg *config.Config) (Deliverer, error) {
			return namedDeliverer("b"), nil
		})
		RegisterDeliverer("a-unconfigured", func(context.Context, *config.Config) (Deliverer, error) { return nil, nil })
		if got := DelivererNames(); !slices.Equal(got, []string{"a-unconfigured", "b-configured"}) {
			t.Errorf("names %v", got)
		}
		ds, err := NewDeliverers(context.Background(), &config.Config{})
		if err != nil || len(ds) != 1 || ds[0].Name() != "b" {
			t.Fatalf("deliverers %v, %v", ds, err)
		}
		RegisterDeliverer("c-broken", func(context.Context, *config.Config) (Deliverer, error) {
			return nil, errors.New("no broker")
		})
		ds, err = NewDeliverers(context.Background(), &config.Config{})
		if ds != nil || err == nil || !strings.Contains(err.Error(), "deliverer c-broken: no broker") {
			t.Errorf("deliverers %v, err %v", ds, err)
		}
	})
}

func TestRegisterPanics(t *testing.T) {
	withRegistry(t, func() {
		f := func(context.Context, *config.Config) (Deliverer, error) { return nil, nil }
		RegisterDeliverer("x", f)
		for name, call := range map[string]func(){
			"duplicate": func() { RegisterDeliverer("x", f) },
			"nil":       func() { RegisterDeliverer("y", nil) },
			"empty":     func() { RegisterDeliverer("", f) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s: no panic", name)
					}
				}()
				call()
			}()
		}
	})
}
