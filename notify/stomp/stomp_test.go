package stomp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/openclair/clair/config"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/notify/internal/brokertest"
)

const id = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"

// broker is the real RabbitMQ: an exchange and a bound queue declared over
// AMQP, as its administrator would; the deliverer speaks STOMP to it.
type broker struct {
	stomp           string
	amqpAddr        string
	exchange, queue string
	ch              *amqp.Channel
}

func setup(t testing.TB) *broker {
	t.Helper()
	url, addr := brokertest.AMQP(t)
	st := brokertest.STOMP(t)
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	var r [6]byte
	rand.Read(r[:])
	sfx := hex.EncodeToString(r[:])
	b := &broker{stomp: st, amqpAddr: addr, exchange: "clair-stomp-" + sfx, queue: "clair-stomp-" + sfx, ch: ch}
	if err := ch.ExchangeDeclare(b.exchange, "direct", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(b.queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(b.queue, "notifications", b.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ch.QueueDelete(b.queue, false, false, false)
		ch.ExchangeDelete(b.exchange, false, false)
	})
	return b
}

func (b *broker) conf() *config.STOMP {
	return &config.STOMP{
		Destination: "/exchange/" + b.exchange + "/notifications",
		Callback:    "http://clair-notifier:6060/notifier/api/v1/notification/",
		URIs:        []string{b.stomp},
		User:        &config.Login{Login: "guest", Passcode: "guest"},
	}
}

func (b *broker) drain(t *testing.T) []amqp.Delivery {
	t.Helper()
	var out []amqp.Delivery
	for {
		m, ok, err := b.ch.Get(b.queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, m)
	}
}

func body(ms []amqp.Delivery) string {
	if len(ms) == 0 {
		return ""
	}
	return string(ms[0].Body)
}

func newDeliverer(t testing.TB, c *config.STOMP) *Deliverer {
	t.Helper()
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func set(n int) notify.Delivery {
	ns := brokertest.Notifications(n)
	return notify.Delivery{ID: id, Notifications: func(context.Context) ([]notify.Notification, error) { return ns, nil }}
}

func TestCallbackMode(t *testing.T) {
	b := setup(t)
	c := b.conf()
	d := newDeliverer(t, c)
	if d.Name() != "stomp-"+c.Destination {
		t.Errorf("name %q", d.Name())
	}
	if err := d.Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	ms := b.drain(t)
	want := `{"notification_id":"` + id + `","callback":"http://clair-notifier:6060/notifier/api/v1/notification/` + id + `"}`
	if len(ms) != 1 || string(ms[0].Body) != want {
		t.Fatalf("%d messages, first %q; want %s", len(ms), body(ms), want)
	}
	if ms[0].ContentType != "application/json" || ms[0].DeliveryMode != amqp.Persistent {
		t.Errorf("content type %q, delivery mode %d", ms[0].ContentType, ms[0].DeliveryMode)
	}
	// To an existing queue by name, passively (/amq/queue/).
	c.Destination = "/amq/queue/" + b.queue
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 || string(ms[0].Body) != want {
		t.Errorf("/amq/queue: %d messages", len(ms))
	}
}

func TestDirectMode(t *testing.T) {
	b := setup(t)
	c := b.conf()
	c.Direct, c.Rollup = true, 2
	d := newDeliverer(t, c)
	if d.Name() != "stomp-direct-"+c.Destination {
		t.Errorf("name %q", d.Name())
	}
	if err := d.Deliver(context.Background(), set(5)); err != nil {
		t.Fatal(err)
	}
	ms := b.drain(t)
	if len(ms) != 3 {
		t.Fatalf("%d messages, want 3 (5 notifications, rollup 2)", len(ms))
	}
	all := brokertest.Notifications(5)
	for i, m := range ms {
		want, _ := json.Marshal(all[2*i : min(2*i+2, 5)])
		if string(m.Body) != string(want)+"\n" {
			t.Errorf("message %d: %s\nwant %s", i, m.Body, want)
		}
	}
	c.Rollup = 0
	if err := newDeliverer(t, c).Deliver(context.Background(), set(2)); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 2 || string(ms[0].Body) != "["+brokertest.FirstNotificationJSON+"]\n" {
		t.Errorf("rollup 0: %d messages, first %s", len(ms), body(ms))
	}
}

func TestBrokerRefuses(t *testing.T) {
	b := setup(t)
	c := b.conf()
	c.Destination = "/exchange/" + b.exchange + "-missing/notifications"
	err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), c.Destination) || !strings.Contains(err.Error(), "NOT_FOUND - no exchange") {
		t.Errorf("missing exchange: %v", err)
	}
	c = b.conf()
	c.User = &config.Login{Login: "guest", Passcode: "wrong"}
	err = newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "Access refused") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad login: %v", err)
	}
	if ms := b.drain(t); len(ms) != 0 {
		t.Errorf("%d messages", len(ms))
	}
}

func TestFailover(t *testing.T) {
	b := setup(t)
	c := b.conf()
	c.URIs = []string{"127.0.0.1:1", b.stomp}
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 {
		t.Errorf("%d messages", len(ms))
	}
	c.URIs = []string{"127.0.0.1:1", "127.0.0.1:2"}
	err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), "no broker usable") || !strings.Contains(err.Error(), "127.0.0.1:2") {
		t.Errorf("all down: %v", err)
	}
}

// The connection breaks after the broker took the message but before its
// receipt arrived: Deliver fails, the next delivery connects again, and the
// receiver has the set twice (the at-least-once edge).
func TestBrokerRestartMidDelivery(t *testing.T) {
	b := setup(t)
	p := brokertest.NewProxy(t, b.stomp)
	c := b.conf()
	c.URIs = []string{p.Addr}
	d := newDeliverer(t, c)
	err := brokertest.CutMidDelivery(t, p, id,
		func() error { return d.Deliver(context.Background(), notify.Delivery{ID: id}) },
		func() (int, error) {
			q, err := b.ch.QueueDeclarePassive(b.queue, true, false, false, false, nil)
			return q.Messages, err
		})
	if err == nil || !strings.Contains(err.Error(), "not acknowledged") {
		t.Errorf("interrupted delivery: %v", err)
	}
	if err := d.Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 2 || string(ms[0].Body) != string(ms[1].Body) {
		t.Errorf("%d messages, want the set twice", len(ms))
	}
}

// A broker that never sends the receipt costs the context's deadline.
func TestReceiptTimeout(t *testing.T) {
	b := setup(t)
	p := brokertest.NewProxy(t, b.stomp)
	c := b.conf()
	c.URIs = []string{p.Addr}
	p.HoldWhenSent([]byte(id))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := newDeliverer(t, c).Deliver(ctx, notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || time.Since(start) > 5*time.Second {
		t.Errorf("%v after %v", err, time.Since(start))
	}
	p.Hold(false)
}

func TestRegistered(t *testing.T) {
	b := setup(t)
	cfg, err := config.Parse(strings.NewReader(`
notifier:
  stomp:
    destination: /amq/queue/` + b.queue + `
    callback: http://c/notifications/
    uris: ["` + b.stomp + `"]
    user: {login: guest, passcode: guest}
`))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := notify.NewDeliverers(context.Background(), cfg)
	if err != nil || len(ds) != 1 || ds[0].Name() != "stomp-/amq/queue/"+b.queue {
		t.Fatalf("%v %v", ds, err)
	}
	if err := ds[0].Deliver(context.Background(), notify.Delivery{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 || string(ms[0].Body) != `{"notification_id":"n1","callback":"http://c/notifications/n1"}` {
		t.Errorf("%q", body(ms))
	}
}

// Over TLS, with the section's root_ca and a client certificate the broker
// requires.
func TestTLS(t *testing.T) {
	b := setup(t)
	p, files := brokertest.NewTLSProxy(t, b.stomp)
	c := b.conf()
	c.URIs = []string{p.Addr}
	c.TLS = &config.TLS{RootCA: files.RootCA, Cert: files.Cert, Key: files.Key}
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 {
		t.Errorf("%d messages", len(ms))
	}
	// Without the client certificate the broker refuses the handshake.
	c.TLS = &config.TLS{RootCA: files.RootCA}
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err == nil {
		t.Error("delivered without the client certificate")
	}
	// Without the CA the broker's certificate is not trusted.
	c.TLS = &config.TLS{Cert: files.Cert, Key: files.Key}
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted broker: %v", err)
	}
	if _, err := New(&config.STOMP{URIs: []string{"h:1"}, Destination: "/queue/x", TLS: &config.TLS{RootCA: files.Cert + ".missing"}}); err == nil || !strings.Contains(err.Error(), "stomp: tls") {
		t.Errorf("missing root_ca: %v", err)
	}
}

// Without a deadline from the caller, each step is bounded: a broker that
// never sends a receipt costs one step; a large set whose receipts keep
// coming takes longer than a step and is delivered.
func TestStepTimeout(t *testing.T) {
	b := setup(t)
	p := brokertest.NewProxy(t, b.stomp)
	c := b.conf()
	c.URIs = []string{p.Addr}
	d := newDeliverer(t, c)
	d.step = 300 * time.Millisecond
	p.HoldWhenSent([]byte(id))
	start := time.Now()
	err := d.Deliver(context.Background(), notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), "not acknowledged") || time.Since(start) > 5*time.Second {
		t.Errorf("%v after %v", err, time.Since(start))
	}
	p.Hold(false)
	b.drain(t)

	c = b.conf()
	c.Direct = true
	d = newDeliverer(t, c)
	d.step = time.Second
	start = time.Now()
	if err := d.Deliver(context.Background(), set(1000)); err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	t.Logf("1000 messages in %v, step %v", time.Since(start), d.step)
	if ms := b.drain(t); len(ms) != 1000 {
		t.Errorf("%d messages", len(ms))
	}
}
