package notify

import "context"

// Recent lists the newest notifications of st, newest set first, at most
// limit in all: what the web page shows.
type Recent struct {
	Store interface {
		NotificationSets(ctx context.Context) ([]Set, error)
		Notifications(ctx context.Context, id string, after, limit int) ([]Notification, int, error)
	}
}

// RecentNotifications implements the web page's NotificationLister.
func (r Recent) RecentNotifications(ctx context.Context, limit int) ([]Notification, error) {
	sets, err := r.Store.NotificationSets(ctx)
	if err != nil {
		return nil, err
	}
	var out []Notification
	for i := len(sets) - 1; i >= 0 && len(out) < limit; i-- {
		if sets[i].Count == 0 {
			continue
		}
		ns, _, err := r.Store.Notifications(ctx, sets[i].ID, 0, limit-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	return out, nil
}
