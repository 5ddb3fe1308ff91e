package service

import (
	"context"
	"errors"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/store"
)

// UpdateSource is what Updates reads (store.Store).
type UpdateSource interface {
	UpdateOperations(ctx context.Context, feeds ...string) (map[string][]store.UpdateOperation, error)
	UpdateDiff(ctx context.Context, prev, cur string) (*store.UpdateDiff, error)
}

// Updates serves the matcher's update_operation and update_diff with the
// store's errors given their kinds.
type Updates struct{ Store UpdateSource }

// UpdateOperations lists the feeds' update operations, newest first.
func (u *Updates) UpdateOperations(ctx context.Context, feeds ...string) (map[string][]store.UpdateOperation, error) {
	return u.Store.UpdateOperations(ctx, feeds...)
}

// UpdateDiff says what changed between two operations: an unknown
// operation is NotFound, two of different feeds Invalid.
func (u *Updates) UpdateDiff(ctx context.Context, prev, cur string) (*store.UpdateDiff, error) {
	d, err := u.Store.UpdateDiff(ctx, prev, cur)
	switch {
	case errors.Is(err, store.ErrInvalid):
		return nil, errkind.Wrap(errkind.Invalid, "prev and cur are operations of different feeds", err)
	case errors.Is(err, store.ErrNotFound):
		return nil, errkind.Wrap(errkind.NotFound, "update operation not found (or its snapshot is no longer kept)", err)
	}
	return d, err
}
