package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/vuln"
)

// hookDeliverer posts Clair's webhook body to a URL: the real deliverers
// live in notify's sub-packages; this one drives a real HTTP receiver on
// loopback so that the notifier's retries and receipts are tested.
type hookDeliverer struct {
	name, url string
}

func (h *hookDeliverer) Name() string { return h.name }

func (h *hookDeliverer) Deliver(ctx context.Context, d notify.Delivery) error {
	b, _ := json.Marshal(map[string]string{"notification_id": d.ID, "callback": d.Callback})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// receiver is a webhook receiver that refuses the first refuse requests
// (500) and counts what it accepted, per set.
type receiver struct {
	srv      *httptest.Server
	refuse   atomic.Int32
	hang     atomic.Bool
	mu       sync.Mutex
	accepted map[string]int
	tries    atomic.Int32
}

func newReceiver(t *testing.T, refuse int) *receiver {
	r := &receiver{accepted: map[string]int{}}
	r.refuse.Store(int32(refuse))
	stop := make(chan struct{})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.tries.Add(1)
		if r.hang.Load() {
			select {
			case <-req.Context().Done():
			case <-stop:
			}
			return
		}
		if r.refuse.Add(-1) >= 0 {
			http.Error(w, "not now", http.StatusInternalServerError)
			return
		}
		var body struct {
			ID       string `json:"notification_id"`
			Callback string `json:"callback"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil || body.ID == "" || body.Callback == "" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.accepted[body.ID]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: a hanging handler returns
	return r
}

func (r *receiver) got() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.accepted {
		out[k] = v
	}
	return out
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// debianScenario indexes the real Debian images, writes an older
// snapshot of the real tracker (the feed's first) and the full one.
func debianScenario(t *testing.T, st testStore) (irs []*vuln.IndexReport, first, second func()) {
	irs = []*vuln.IndexReport{
		indexDir(t, sharedPath(t, "pkgdb/rootfs/debian-11-nginx"), "sha256:d11"),
		indexDir(t, sharedPath(t, "pkgdb/rootfs/debian-12-python3.12-slim-langflow"), "sha256:d12"),
	}
	for _, ir := range irs {
		if err := st.PutIndexReport(context.Background(), ir); err != nil {
			t.Fatal(err)
		}
	}
	full := debianAdvisories(t, irs)
	old := older(full)
	return irs, func() { replace(t, st, "debian", "old", old) }, func() { replace(t, st, "debian", "new", full) }
}

func TestNotifierProcessAndDeliver(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			_, first, second := debianScenario(t, st)
			rcv := newReceiver(t, 2)
			clk := &clock{t: time.Now()}
			n := &notify.Notifier{Store: st, Deliverers: []notify.Deliverer{&hookDeliverer{"webhook", rcv.srv.URL}},
				CallbackBase: "http://clair/notifier/api/v1/notification/", DisableSummary: true,
				DeliveryInterval: time.Second, Now: clk.Now}

			first()
			sets, err := n.Process(ctx)
			if err != nil || len(sets) != 1 || sets[0].Count != 0 {
				t.Fatalf("first snapshot: sets %+v, %v", sets, err)
			}
			second()
			sets, err = n.Process(ctx)
			if err != nil || len(sets) != 1 {
				t.Fatalf("update: sets %+v, %v", sets, err)
			}
			set := sets[0]
			want, err := notify.Compute(ctx, st, set.Prev, set.Operation, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := notify.All(ctx, st, set.ID)
			if err != nil || len(got) != len(want) || len(got) < 50 {
				t.Fatalf("stored %d notifications, computed %d (%v)", len(got), len(want), err)
			}
			if again, err := n.Process(ctx); err != nil || len(again) != 0 {
				t.Fatalf("processing again: %+v %v", again, err)
			}

			// The receiver refuses twice: the set is retried after the
			// backoff, then acknowledged once and never sent again.
			for i := 0; i < 6; i++ {
				err := n.Deliver(ctx)
				if i < 2 && err == nil {
					t.Fatalf("attempt %d: no error though the receiver refused", i)
				}
				clk.Add(10 * time.Second)
			}
			if g := rcv.got(); g[set.ID] != 1 || len(g) != 1 {
				t.Fatalf("receiver got %v, want set %s once", g, set.ID)
			}
			if tries := rcv.tries.Load(); tries != 3 {
				t.Errorf("%d requests, want 3 (2 refused, 1 accepted)", tries)
			}
			s, err := st.NotificationSet(ctx, set.ID)
			if err != nil || len(s.Delivered) != 1 || s.Delivered[0] != "webhook" {
				t.Fatalf("receipt: %+v %v", s, err)
			}
			// A restarted notifier (a new instance) resends nothing
			// acknowledged.
			n2 := &notify.Notifier{Store: st, Deliverers: n.Deliverers, Now: clk.Now, CallbackBase: n.CallbackBase}
			if err := n2.Deliver(ctx); err != nil {
				t.Fatal(err)
			}
			if g := rcv.got(); g[set.ID] != 1 {
				t.Fatalf("after restart the receiver got %v", g)
			}

			// GC: after the retention the delivered set goes, the
			// feed's newest set (where the notifier resumes) stays.
			second() // an operation with the same content: an empty set
			if _, err := n.Process(ctx); err != nil {
				t.Fatal(err)
			}
			if k, err := n.GC(ctx); err != nil || k != 0 {
				t.Fatalf("gc within the retention: %d %v", k, err)
			}
			clk.Add(notify.DefaultRetention + time.Hour)
			if k, err := n.GC(ctx); err != nil || k != 2 {
				t.Fatalf("gc: %d deleted, want 2 (%v)", k, err)
			}
			all, _ := st.NotificationSets(ctx)
			if len(all) != 1 {
				t.Fatalf("after gc: %+v", all)
			}
		})
	}
}

// TestNotifierHangingReceiver: a receiver that never answers fails the
// delivery within the timeout and does not hold up another deliverer.
func TestNotifierHangingReceiver(t *testing.T) {
	ctx := context.Background()
	st := stores(t)["sqlite"](t)
	_, first, second := debianScenario(t, st)
	hang, ok := newReceiver(t, 0), newReceiver(t, 0)
	hang.hang.Store(true)
	n := &notify.Notifier{Store: st, DeliverTimeout: 200 * time.Millisecond, CallbackBase: "http://clair/notifier/api/v1/notification", Deliverers: []notify.Deliverer{
		&hookDeliverer{"hangs", hang.srv.URL}, &hookDeliverer{"ok", ok.srv.URL}}}
	first()
	n.Process(ctx)
	second()
	sets, err := n.Process(ctx)
	if err != nil || len(sets) != 1 {
		t.Fatal(sets, err)
	}
	start := time.Now()
	err = n.Deliver(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && time.Since(start) > 5*time.Second {
		t.Fatalf("hanging receiver: %v after %v", err, time.Since(start))
	}
	if g := ok.got(); g[sets[0].ID] != 1 {
		t.Fatalf("the other receiver got %v", g)
	}
}

// TestNotifierKilledMidDelivery: a receiver acknowledged but the receipt
// was never stored (the process died in between): the next instance sends
// the set again — the at-least-once edge — and then never more.
func TestNotifierKilledMidDelivery(t *testing.T) {
	ctx := context.Background()
	st := stores(t)["sqlite"](t)
	_, first, second := debianScenario(t, st)
	rcv := newReceiver(t, 0)
	first()
	n := &notify.Notifier{Store: st}
	n.Process(ctx)
	second()
	sets, _ := n.Process(ctx)
	// "Killed": the delivery happened, the receipt did not.
	d := &hookDeliverer{"webhook", rcv.srv.URL}
	if err := d.Deliver(ctx, notify.Delivery{ID: sets[0].ID, Callback: "http://x/" + sets[0].ID}); err != nil {
		t.Fatal(err)
	}
	n2 := &notify.Notifier{Store: st, Deliverers: []notify.Deliverer{d}, CallbackBase: "http://x"}
	for range 3 {
		if err := n2.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if g := rcv.got(); g[sets[0].ID] != 2 {
		t.Fatalf("receiver got %v, want the set twice (once before the kill, once after)", g)
	}
}

// TestNotifierTwoInstances: two notifiers on one PostgreSQL delivering at
// once never both deliver a set.
func TestNotifierTwoInstances(t *testing.T) {
	ctx := context.Background()
	st := openPostgres(t)
	st2 := openPostgres2(t, st)
	_, first, second := debianScenario(t, st)
	rcv := newReceiver(t, 0)
	first()
	a := &notify.Notifier{Store: st, Deliverers: []notify.Deliverer{&hookDeliverer{"webhook", rcv.srv.URL}}, CallbackBase: "http://x"}
	b := &notify.Notifier{Store: st2, Deliverers: a.Deliverers, CallbackBase: "http://x"}
	a.Process(ctx)
	second()
	var wg sync.WaitGroup
	for _, n := range []*notify.Notifier{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := n.Process(ctx); err != nil {
					t.Error(err)
				}
				if err := n.Deliver(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	g := rcv.got()
	if len(g) != 1 {
		t.Fatalf("receiver got %v, want one set", g)
	}
	for id, k := range g {
		if k != 1 {
			t.Fatalf("set %s delivered %d times", id, k)
		}
	}
}
