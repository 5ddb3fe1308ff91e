package httpapi

import (
	"context"

	"github.com/openclair/clair/store"
)

// fakeUpdates only gives TestOpenAPIRoutes a non-nil UpdateStore; the
// endpoints themselves are tested against real stores in package server.
type fakeUpdates struct{}

func (fakeUpdates) UpdateOperations(context.Context, ...string) (map[string][]store.UpdateOperation, error) {
	return nil, nil
}

func (fakeUpdates) UpdateDiff(context.Context, string, string) (*store.UpdateDiff, error) {
	return nil, store.ErrNotFound
}
