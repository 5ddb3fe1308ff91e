package deliver

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/openclair/clair/notify"
)

func TestCallbackURL(t *testing.T) {
	d := notify.Delivery{ID: "6e4b1d2c-7a1f-4f5e-9c55-0f0a3c1b2d3e", Callback: "http://default/notifier/api/v1/notification/6e4b1d2c-7a1f-4f5e-9c55-0f0a3c1b2d3e"}
	for base, want := range map[string]string{
		"http://clair-notifier:6060/notifier/api/v1/notification/": "http://clair-notifier:6060/notifier/api/v1/notification/" + d.ID,
		"http://clair-notifier:6060/notifier/api/v1/notification":  "http://clair-notifier:6060/notifier/api/v1/notification/" + d.ID,
		"https://h/v1/notifications/":                              "https://h/v1/notifications/" + d.ID,
		"":                                                         d.Callback,
	} {
		got, err := CallbackURL(base, d)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", base, got, err, want)
		}
	}
	if _, err := CallbackURL("", notify.Delivery{ID: "x"}); err == nil {
		t.Error("no callback at all: no error")
	}
	b, err := CallbackBody("http://c/", notify.Delivery{ID: "id1"})
	if err != nil || string(b) != `{"notification_id":"id1","callback":"http://c/id1"}` {
		t.Errorf("%s %v", b, err)
	}
}

func TestRollup(t *testing.T) {
	ns := make([]notify.Notification, 5)
	for i := range ns {
		ns[i] = notify.Notification{ID: string(rune('a' + i)), Manifest: "sha256:m", Reason: notify.Added}
	}
	d := notify.Delivery{ID: "s", Notifications: func(context.Context) ([]notify.Notification, error) { return ns, nil }}
	for n, sizes := range map[int][]int{0: {1, 1, 1, 1, 1}, 1: {1, 1, 1, 1, 1}, 2: {2, 2, 1}, 5: {5}, 100: {5}} {
		bodies, err := Rollup(context.Background(), d, n)
		if err != nil || len(bodies) != len(sizes) {
			t.Fatalf("rollup %d: %d bodies, %v", n, len(bodies), err)
		}
		var all []notify.Notification
		for i, b := range bodies {
			var got []notify.Notification
			if err := json.Unmarshal(b, &got); err != nil || len(got) != sizes[i] || b[len(b)-1] != '\n' {
				t.Errorf("rollup %d body %d: %s", n, i, b)
			}
			all = append(all, got...)
		}
		for i := range ns {
			if all[i].ID != ns[i].ID {
				t.Errorf("rollup %d: order %v", n, all)
			}
		}
	}
}
