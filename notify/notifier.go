package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openclair/clair/store"
)

// Defaults of Notifier's settings (Clair's, where Clair has one).
const (
	DefaultPollInterval     = 5 * time.Minute
	DefaultDeliveryInterval = 5 * time.Second
	// DefaultRetention is how long a set is kept once it needs nothing
	// more: every deliverer acknowledged it (or a client marked it read,
	// or it is empty). A receiver that pages a set it was sent has this
	// long to do it. Sets not yet delivered are kept however old.
	DefaultRetention = 7 * 24 * time.Hour
	// maxBackoff bounds the wait between two attempts of one delivery.
	maxBackoff            = 10 * time.Minute
	defaultDeliverTimeout = 30 * time.Second
)

// Lock names: one instance of a deployment computes, one delivers.
const (
	processLock = "notifier:process"
	deliverLock = "notifier:deliver"
)

// Notifier computes a notification set for every update operation, stores
// it, and delivers it to each deliverer until acknowledged. Several
// instances may share one store: the store's locks make one of them do
// each job.
//
// Delivery is at least once: a set is sent to a deliverer until Deliver
// returns nil, then its receipt is stored and it is never sent there
// again. The edge is a receiver whose acknowledgement arrives but whose
// receipt is not stored (the notifier killed between the two, or the
// store unreachable): that set is sent again after the restart.
type Notifier struct {
	Store      Store
	Deliverers []Deliverer
	// CallbackBase is the URL a set's id is appended to for callback-mode
	// deliverers (Clair's webhook "callback":
	// http://host/notifier/api/v1/notification).
	CallbackBase     string
	PollInterval     time.Duration // 0: DefaultPollInterval
	DeliveryInterval time.Duration // 0: DefaultDeliveryInterval
	Retention        time.Duration // 0: DefaultRetention
	// DeliverTimeout bounds one Deliver call (0: 30 s): a receiver that
	// hangs is a failed delivery, retried later.
	DeliverTimeout time.Duration
	// DisableSummary gives one notification per (manifest,
	// vulnerability) instead of one per manifest.
	DisableSummary bool
	Logger         *slog.Logger // nil: slog.Default()
	Now            func() time.Time

	mu         sync.Mutex
	backoff    map[[2]string]retry // (set, deliverer) → when to try again
	fragmentGC time.Time           // last DeleteUnusedFragments
}

type retry struct {
	n    int
	next time.Time
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.Default()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run polls and delivers until ctx is done; errors are logged and the work
// retried at the next tick. It returns ctx's error.
func (n *Notifier) Run(ctx context.Context) error {
	poll := time.NewTicker(orDefault(n.PollInterval, DefaultPollInterval))
	defer poll.Stop()
	deliver := time.NewTicker(orDefault(n.DeliveryInterval, DefaultDeliveryInterval))
	defer deliver.Stop()
	n.pollOnce(ctx)
	n.deliverOnce(ctx)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
			n.pollOnce(ctx)
		case <-deliver.C:
			n.deliverOnce(ctx)
		}
	}
}

func (n *Notifier) pollOnce(ctx context.Context) {
	sets, err := n.Process(ctx)
	if err != nil && ctx.Err() == nil {
		n.log().Error("notifier: process", "err", err)
	}
	for _, s := range sets {
		if s.Count > 0 {
			// A new set leaves now, not at the next delivery tick.
			n.deliverOnce(ctx)
			break
		}
	}
	if _, err := n.GC(ctx); err != nil && ctx.Err() == nil {
		n.log().Error("notifier: gc", "err", err)
	}
}

func (n *Notifier) deliverOnce(ctx context.Context) {
	if err := n.Deliver(ctx); err != nil && ctx.Err() == nil {
		n.log().Error("notifier: deliver", "err", err)
	}
}

// SetID is the id of the notification set of an update operation: the
// same for every instance that computes it.
func SetID(operation string) string { return notificationID("set", operation) }

// Process stores a notification set for every update operation that has
// none, oldest first within each feed, and returns the sets it stored. A
// feed the notifier never saw gets an empty set for its current operation:
// the notifier watches from then on (a first boot must not page anyone about
// everything). Another instance processing meanwhile makes this one return
// at once.
func (n *Notifier) Process(ctx context.Context) ([]Set, error) {
	unlock, ok, err := n.Store.TryLock(ctx, processLock)
	if err != nil {
		return nil, fmt.Errorf("notify: process: %w", err)
	}
	if !ok {
		return nil, nil
	}
	defer unlock()
	ops, err := n.Store.UpdateOperations(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: process: %w", err)
	}
	sets, err := n.Store.NotificationSets(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: process: %w", err)
	}
	done := map[string]bool{}
	for _, s := range sets {
		done[s.Operation] = true
	}
	var out []Set
	for _, feed := range sortedKeys(ops) {
		list := ops[feed] // newest first
		// The operations after the newest processed one; none processed:
		// the current one only, as a baseline.
		var todo []int
		for i := range list {
			if done[list[i].ID] {
				break
			}
			todo = append(todo, i)
		}
		if len(todo) == len(list) && len(todo) > 0 {
			s := n.newSet(list[0].ID, "", feed)
			if _, err := n.Store.PutNotificationSet(ctx, s, nil); err != nil {
				return out, fmt.Errorf("notify: process: %w", err)
			}
			out = append(out, s)
			continue
		}
		for j := len(todo) - 1; j >= 0; j-- {
			i := todo[j]
			cur, prev := list[i].ID, list[i+1].ID
			ns, err := Compute(ctx, n.Store, prev, cur, !n.DisableSummary)
			if errors.Is(err, store.ErrNotFound) {
				// A snapshot the history no longer keeps: what
				// changed cannot be known.
				n.log().Warn("notifier: update operation not computable; recorded without notifications",
					"feed", feed, "operation", cur, "err", err)
				ns, err = nil, nil
			}
			if err != nil {
				return out, err
			}
			s := n.newSet(cur, prev, feed)
			ok, err := n.Store.PutNotificationSet(ctx, s, ns)
			if err != nil {
				return out, fmt.Errorf("notify: process: %w", err)
			}
			if ok {
				s.Count = len(ns)
				out = append(out, s)
				n.log().Info("notifier: notification set stored", "feed", feed, "operation", cur, "id", s.ID, "notifications", len(ns))
			}
		}
	}
	return out, nil
}

func (n *Notifier) newSet(op, prev, feed string) Set {
	return Set{ID: SetID(op), Operation: op, Prev: prev, Feed: feed, Created: n.now().UTC()}
}

// Deliver sends every stored, unread, non-empty set to every deliverer
// that has not acknowledged it, oldest first, and records the receipts. A
// failed delivery is retried at later calls with a growing wait (the
// delivery interval doubled per failure, up to 10 minutes); it does not hold
// up the other sets or deliverers. Another instance delivering meanwhile
// makes this one return at once: two instances never both deliver a set.
func (n *Notifier) Deliver(ctx context.Context) error {
	if len(n.Deliverers) == 0 {
		return nil
	}
	unlock, ok, err := n.Store.TryLock(ctx, deliverLock)
	if err != nil {
		return fmt.Errorf("notify: deliver: %w", err)
	}
	if !ok {
		return nil
	}
	defer unlock()
	sets, err := n.Store.NotificationSets(ctx)
	if err != nil {
		return fmt.Errorf("notify: deliver: %w", err)
	}
	var errs []error
	for _, s := range sets {
		if s.Count == 0 || s.Read != nil {
			continue
		}
		for _, d := range n.Deliverers {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if slices.Contains(s.Delivered, d.Name()) || !n.due(s.ID, d.Name()) {
				continue
			}
			if err := n.deliver(ctx, s, d); err != nil {
				n.failed(s.ID, d.Name())
				n.log().Warn("notifier: delivery failed; will retry", "set", s.ID, "deliverer", d.Name(), "err", err)
				errs = append(errs, fmt.Errorf("notify: deliver %s to %s: %w", s.ID, d.Name(), err))
				continue
			}
			n.succeeded(s.ID, d.Name())
			if err := n.Store.PutDelivery(ctx, s.ID, d.Name(), n.now().UTC()); err != nil {
				// Sent but not recorded: it will be sent again
				// (the at-least-once edge).
				return fmt.Errorf("notify: deliver: %w", err)
			}
			n.log().Info("notifier: delivered", "set", s.ID, "deliverer", d.Name(), "notifications", s.Count)
		}
	}
	return errors.Join(errs...)
}

func (n *Notifier) deliver(ctx context.Context, s Set, d Deliverer) (err error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(n.DeliverTimeout, defaultDeliverTimeout))
	defer cancel()
	defer func() {
		// A deliverer's panic is its failure, not the notifier's end.
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	cb := ""
	if n.CallbackBase != "" {
		cb = strings.TrimSuffix(n.CallbackBase, "/") + "/" + s.ID
	}
	return d.Deliver(ctx, Delivery{
		ID:            s.ID,
		Callback:      cb,
		Notifications: func(ctx context.Context) ([]Notification, error) { return All(ctx, n.Store, s.ID) },
	})
}

// Pager pages a set's notifications (Store.Notifications).
type Pager interface {
	Notifications(ctx context.Context, id string, after, limit int) ([]Notification, int, error)
}

// All reads every notification of a set.
func All(ctx context.Context, st Pager, id string) ([]Notification, error) {
	var out []Notification
	after := 0
	for {
		page, next, err := st.Notifications(ctx, id, after, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == 0 {
			return out, nil
		}
		after = next
	}
}

func (n *Notifier) due(set, d string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.backoff[[2]string{set, d}]
	return !ok || !n.now().Before(r.next)
}

func (n *Notifier) failed(set, d string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.backoff == nil {
		n.backoff = map[[2]string]retry{}
	}
	k := [2]string{set, d}
	r := n.backoff[k]
	r.n++
	wait := orDefault(n.DeliveryInterval, DefaultDeliveryInterval)
	for i := 1; i < r.n && wait < maxBackoff; i++ {
		wait *= 2
	}
	r.next = n.now().Add(min(wait, maxBackoff))
	n.backoff[k] = r
}

func (n *Notifier) succeeded(set, d string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.backoff, [2]string{set, d})
}

// GC deletes the sets older than the retention that need nothing more
// (acknowledged by every deliverer, read, or empty), except each feed's
// newest set, which marks where the notifier resumes, and the index
// fragments no report uses any more. It returns how many sets it deleted.
func (n *Notifier) GC(ctx context.Context) (int, error) {
	// The index's fragments that replaced or deleted reports left, once
	// a day: a pass reads the whole fragment table.
	n.mu.Lock()
	due := n.now().Sub(n.fragmentGC) >= 24*time.Hour
	n.mu.Unlock()
	if due {
		if _, err := n.Store.DeleteUnusedFragments(ctx); err != nil {
			return 0, fmt.Errorf("notify: gc: %w", err)
		}
		n.mu.Lock()
		n.fragmentGC = n.now()
		n.mu.Unlock()
	}
	sets, err := n.Store.NotificationSets(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: gc: %w", err)
	}
	newest := map[string]string{}
	for _, s := range sets { // oldest first
		newest[s.Feed] = s.ID
	}
	cutoff := n.now().Add(-orDefault(n.Retention, DefaultRetention))
	var del []string
	for _, s := range sets {
		if newest[s.Feed] == s.ID || !s.Created.Before(cutoff) {
			continue
		}
		if s.Count == 0 || s.Read != nil || n.deliveredToAll(s) {
			del = append(del, s.ID)
		}
	}
	if len(del) == 0 {
		return 0, nil
	}
	k, err := n.Store.DeleteNotificationSets(ctx, del)
	if err != nil {
		return k, fmt.Errorf("notify: gc: %w", err)
	}
	return k, nil
}

func (n *Notifier) deliveredToAll(s Set) bool {
	for _, d := range n.Deliverers {
		if !slices.Contains(s.Delivered, d.Name()) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
