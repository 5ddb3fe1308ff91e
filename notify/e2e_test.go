package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/httpapi"
	"github.com/openclair/clair/notify"
)

// pagingReceiver is a webhook receiver as Clair's users write them: it
// refuses the first deliveries, then pages the callback through the
// notifier API and marks the set read.
type pagingReceiver struct {
	mu       sync.Mutex
	refuse   int
	sets     map[string][]notify.Notification
	requests int
}

func (p *pagingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests++
	refuse := p.refuse > 0
	p.refuse--
	p.mu.Unlock()
	if refuse {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	var body struct {
		ID       string `json:"notification_id"`
		Callback string `json:"callback"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var all []notify.Notification
	next := ""
	for {
		url := body.Callback + "?page_size=7"
		if next != "" {
			url += "&next=" + next
		}
		resp, err := http.Get(url)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var page struct {
			Page struct {
				Size int    `json:"size"`
				Next string `json:"next"`
			} `json:"page"`
			Notifications []notify.Notification `json:"notifications"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			http.Error(w, fmt.Sprintf("callback: %d %v", resp.StatusCode, err), http.StatusBadGateway)
			return
		}
		all = append(all, page.Notifications...)
		if page.Page.Next == "" {
			break
		}
		next = page.Page.Next
	}
	req, _ := http.NewRequest(http.MethodDelete, body.Callback, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	p.mu.Lock()
	p.sets[body.ID] = append(p.sets[body.ID], all...)
	p.mu.Unlock()
}

// TestEndToEnd: real images indexed, the real Debian tracker updated from
// an older snapshot to the newer, the notifier running; every notification
// the receiver reads back through the callback is compared with whole
// reports matched before and after: exact, no duplicates, though the
// receiver refused the first deliveries.
func TestEndToEnd(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st := open(t)
			api := httptest.NewServer((&httpapi.Server{Mode: httpapi.ModeNotifier, Notifications: st}).Handler())
			defer api.Close()
			rcv := &pagingReceiver{refuse: 2, sets: map[string][]notify.Notification{}}
			hook := httptest.NewServer(rcv)
			defer hook.Close()

			irs, first, second := debianScenario(t, st)
			first()
			before := reportsNow(t, st, irs)
			n := &notify.Notifier{Store: st, Deliverers: []notify.Deliverer{&hookDeliverer{"webhook", hook.URL}},
				CallbackBase: api.URL + "/notifier/api/v1/notification", DisableSummary: true,
				PollInterval: 50 * time.Millisecond, DeliveryInterval: 20 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			done := make(chan error, 1)
			go func() { done <- n.Run(ctx) }()
			// The baseline of the first snapshot, then the update.
			waitFor(t, func() bool { s, _ := st.NotificationSets(ctx); return len(s) == 1 })
			second()
			after := reportsNow(t, st, irs)
			waitFor(t, func() bool { rcv.mu.Lock(); defer rcv.mu.Unlock(); return len(rcv.sets) == 1 })
			time.Sleep(200 * time.Millisecond) // time for a wrong second delivery
			cancel()
			<-done

			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			if len(rcv.sets) != 1 {
				t.Fatalf("receiver got %d sets", len(rcv.sets))
			}
			for _, got := range rcv.sets {
				ids := map[string]bool{}
				for _, n := range got {
					if ids[n.ID] {
						t.Errorf("duplicate notification %s", n.ID)
					}
					ids[n.ID] = true
				}
				want := expected(before, after)
				gc := changesOf(got)
				if len(gc) != len(want) || len(want) < 50 {
					t.Fatalf("received %d notifications, the reports changed by %d", len(gc), len(want))
				}
				for i := range want {
					if gc[i] != want[i] {
						t.Fatalf("notification %d:\n got %+v\nwant %+v", i, gc[i], want[i])
					}
				}
				t.Logf("%d notifications received exactly, after %d requests (2 refused)", len(got), rcv.requests)
			}
			if rcv.requests != 3 {
				t.Errorf("%d webhook requests, want 3 (2 refused, 1 acknowledged)", rcv.requests)
			}
		})
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
