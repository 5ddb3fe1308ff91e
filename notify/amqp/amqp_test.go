package amqp

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

const id = "8c2d1f4e-0a3b-4c5d-9e6f-7a8b9c0d1e2f"

// broker is the real RabbitMQ with an exchange and a queue bound to it
// under key, declared as the broker's administrator would.
type broker struct {
	url, addr       string
	exchange, queue string
	key             string
	ch              *amqp.Channel
}

func setup(t testing.TB) *broker {
	t.Helper()
	url, addr := brokertest.AMQP(t)
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
	b := &broker{url: url, addr: addr, exchange: "clair-test-" + sfx, queue: "clair-test-" + sfx, key: "notifications", ch: ch}
	if err := ch.ExchangeDeclare(b.exchange, "direct", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(b.queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(b.queue, b.key, b.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ch.QueueDelete(b.queue, false, false, false)
		ch.ExchangeDelete(b.exchange, false, false)
	})
	return b
}

func (b *broker) conf() *config.AMQP {
	return &config.AMQP{
		Exchange:   config.Exchange{Name: b.exchange, Type: "direct", Durable: true},
		RoutingKey: b.key,
		Callback:   "http://clair-notifier:6060/notifier/api/v1/notification/",
		URIs:       []string{b.url},
	}
}

// drain returns every message in the queue.
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

func newDeliverer(t *testing.T, c *config.AMQP) *Deliverer {
	t.Helper()
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func set(n int) notify.Delivery {
	ns := brokertest.Notifications(n)
	return notify.Delivery{ID: id, Notifications: func(context.Context) ([]notify.Notification, error) { return ns, nil }}
}

func TestCallbackMode(t *testing.T) {
	b := setup(t)
	d := newDeliverer(t, b.conf())
	if d.Name() != "amqp-"+b.exchange {
		t.Errorf("name %q", d.Name())
	}
	if err := d.Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	ms := b.drain(t)
	want := `{"notification_id":"` + id + `","callback":"http://clair-notifier:6060/notifier/api/v1/notification/` + id + `"}`
	if len(ms) != 1 || string(ms[0].Body) != want {
		t.Fatalf("got %d messages, first %q; want %s", len(ms), body(ms), want)
	}
	if m := ms[0]; m.ContentType != "application/json" || m.AppId != "clairV4-notifier" || m.DeliveryMode != amqp.Persistent {
		t.Errorf("properties: %q %q %d", m.ContentType, m.AppId, m.DeliveryMode)
	}
}

func body(ms []amqp.Delivery) string {
	if len(ms) == 0 {
		return ""
	}
	return string(ms[0].Body)
}

func TestDirectMode(t *testing.T) {
	b := setup(t)
	c := b.conf()
	c.Direct, c.Rollup = true, 2
	d := newDeliverer(t, c)
	if d.Name() != "amqp-direct-"+b.exchange {
		t.Errorf("name %q", d.Name())
	}
	if err := d.Deliver(context.Background(), set(5)); err != nil {
		t.Fatal(err)
	}
	ms := b.drain(t)
	if len(ms) != 3 {
		t.Fatalf("%d messages, want 3 (5 notifications, rollup 2)", len(ms))
	}
	if !strings.HasPrefix(string(ms[0].Body), "["+brokertest.FirstNotificationJSON+",") {
		t.Errorf("first message:\n%s\nwant it to start with\n[%s,", ms[0].Body, brokertest.FirstNotificationJSON)
	}
	all := brokertest.Notifications(5)
	for i, m := range ms {
		want, _ := json.Marshal(all[2*i : min(2*i+2, 5)])
		if string(m.Body) != string(want)+"\n" {
			t.Errorf("message %d: %s\nwant %s", i, m.Body, want)
		}
	}

	// Clair's default rollup (0): one notification a message.
	c.Rollup = 0
	if err := newDeliverer(t, c).Deliver(context.Background(), set(3)); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 3 || string(ms[0].Body) != "["+brokertest.FirstNotificationJSON+"]\n" {
		t.Errorf("rollup 0: %d messages, first %s", len(ms), body(ms))
	}
	// An empty set sends nothing and is delivered.
	if err := d.Deliver(context.Background(), set(0)); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 0 {
		t.Errorf("empty set: %d messages", len(ms))
	}
}

// The default exchange routes by queue name; it is not declared.
func TestDefaultExchange(t *testing.T) {
	b := setup(t)
	c := b.conf()
	c.Exchange = config.Exchange{}
	c.RoutingKey = b.queue
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 {
		t.Errorf("%d messages", len(ms))
	}
}

func TestBrokerRefuses(t *testing.T) {
	b := setup(t)
	// The exchange is used passively: a missing one is an error naming it,
	// and it is not created.
	c := b.conf()
	c.Exchange.Name = b.exchange + "-missing"
	err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), `exchange "`+c.Exchange.Name+`"`) || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Errorf("missing exchange: %v", err)
	}
	if err := b.ch.ExchangeDeclarePassive(c.Exchange.Name, "direct", true, false, false, false, nil); err == nil {
		t.Error("the deliverer declared the exchange")
	} else {
		b.ch, _ = mustChannel(t, b.url)
	}
	// A message no queue takes is not delivered.
	c = b.conf()
	c.RoutingKey = "nobody-listens"
	err = newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "unroutable") || !strings.Contains(err.Error(), "nobody-listens") {
		t.Errorf("unroutable: %v", err)
	}
}

func mustChannel(t *testing.T, url string) (*amqp.Channel, error) {
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.Channel()
}

// The URIs are tried in order; the first that answers is used.
func TestFailover(t *testing.T) {
	b := setup(t)
	down := "amqp://guest:s3cret@127.0.0.1:1/"
	c := b.conf()
	c.URIs = []string{down, b.url}
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 {
		t.Errorf("%d messages", len(ms))
	}
	c.URIs = []string{down, "amqp://guest:guest@127.0.0.1:2/"}
	err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), "no broker usable") || !strings.Contains(err.Error(), "127.0.0.1:2") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("all down: %v", err)
	}
}

// A broker that drops its connections (a restart) costs no delivery: the
// next one dials again.
func TestReconnect(t *testing.T) {
	b := setup(t)
	p := brokertest.NewProxy(t, b.addr)
	c := b.conf()
	c.URIs = []string{"amqp://guest:guest@" + p.Addr + "/"}
	d := newDeliverer(t, c)
	if err := d.Deliver(context.Background(), notify.Delivery{ID: "one"}); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	if err := d.Deliver(context.Background(), notify.Delivery{ID: "two"}); err != nil {
		t.Fatalf("after the connection broke: %v", err)
	}
	if ms := b.drain(t); len(ms) != 2 || !strings.Contains(string(ms[1].Body), `"two"`) {
		t.Errorf("%d messages", len(ms))
	}
}

// The connection breaks after the broker took the message but before its
// confirm arrived: Deliver fails, the set is delivered again, and the
// receiver sees it twice (the at-least-once edge).
func TestBrokerRestartMidDelivery(t *testing.T) {
	b := setup(t)
	p := brokertest.NewProxy(t, b.addr)
	c := b.conf()
	c.URIs = []string{"amqp://guest:guest@" + p.Addr + "/"}
	d := newDeliverer(t, c)
	if err := d.Deliver(context.Background(), notify.Delivery{ID: "warm"}); err != nil {
		t.Fatal(err)
	}
	b.drain(t)
	err := brokertest.CutMidDelivery(t, p, id,
		func() error { return d.Deliver(context.Background(), notify.Delivery{ID: id}) },
		func() (int, error) {
			q, err := b.ch.QueueDeclarePassive(b.queue, true, false, false, false, nil)
			return q.Messages, err
		})
	if err == nil || !strings.Contains(err.Error(), "not confirmed") {
		t.Errorf("interrupted delivery: %v", err)
	}
	if err := d.Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 2 || string(ms[0].Body) != string(ms[1].Body) {
		t.Errorf("%d messages, want the set twice", len(ms))
	}
}

// A broker that never confirms costs the context's deadline, no more.
func TestConfirmTimeout(t *testing.T) {
	b := setup(t)
	p := brokertest.NewProxy(t, b.addr)
	c := b.conf()
	c.URIs = []string{"amqp://guest:guest@" + p.Addr + "/"}
	d := newDeliverer(t, c)
	if err := d.Deliver(context.Background(), notify.Delivery{ID: "warm"}); err != nil {
		t.Fatal(err)
	}
	p.HoldWhenSent([]byte(id))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := d.Deliver(ctx, notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || time.Since(start) > 5*time.Second {
		t.Errorf("%v after %v", err, time.Since(start))
	}
	p.Hold(false)
}

func TestRegistered(t *testing.T) {
	b := setup(t)
	cfg, err := config.Parse(strings.NewReader(`
notifier:
  amqp:
    exchange: {name: ` + b.exchange + `, type: direct, durability: true}
    routing_key: ` + b.key + `
    callback: http://c/notifications/
    uris: ["` + b.url + `"]
`))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := notify.NewDeliverers(context.Background(), cfg)
	if err != nil || len(ds) != 1 || ds[0].Name() != "amqp-"+b.exchange {
		t.Fatalf("%v %v", ds, err)
	}
	t.Cleanup(func() { ds[0].(*Deliverer).Close() })
	if err := ds[0].Deliver(context.Background(), notify.Delivery{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 || string(ms[0].Body) != `{"notification_id":"n1","callback":"http://c/notifications/n1"}` {
		t.Errorf("%q", body(ms))
	}
}

// amqps:// with the section's root_ca and a client certificate the broker
// requires.
func TestTLS(t *testing.T) {
	b := setup(t)
	p, files := brokertest.NewTLSProxy(t, b.addr)
	c := b.conf()
	c.URIs = []string{"amqps://guest:guest@" + p.Addr + "/"}
	c.TLS = &config.TLS{RootCA: files.RootCA, Cert: files.Cert, Key: files.Key}
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 1 {
		t.Errorf("%d messages", len(ms))
	}
	c.TLS = &config.TLS{Cert: files.Cert, Key: files.Key}
	if err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted broker: %v", err)
	}
	if _, err := New(&config.AMQP{URIs: []string{"amqps://h/"}, TLS: &config.TLS{Cert: files.Cert}}); err == nil || !strings.Contains(err.Error(), "amqp: tls") {
		t.Errorf("cert without key: %v", err)
	}
}

// A broker that refuses a message (here a queue full by its own policy:
// x-max-length 0, reject-publish) nacks it, and that is an error.
func TestNack(t *testing.T) {
	b := setup(t)
	full := b.queue + "-full"
	if _, err := b.ch.QueueDeclare(full, false, true, false, false, amqp.Table{"x-max-length": int32(0), "x-overflow": "reject-publish"}); err != nil {
		t.Fatal(err)
	}
	if err := b.ch.QueueBind(full, "full", b.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	c := b.conf()
	c.RoutingKey = "full"
	err := newDeliverer(t, c).Deliver(context.Background(), notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), "not confirmed: the broker refused it (nack)") {
		t.Errorf("nack: %v", err)
	}
}

// An exchange deleted while the deliverer keeps its connection is an error
// naming it; once the administrator declares it again, delivery resumes.
func TestExchangeDeletedAndBack(t *testing.T) {
	b := setup(t)
	d := newDeliverer(t, b.conf())
	if err := d.Deliver(context.Background(), notify.Delivery{ID: "before"}); err != nil {
		t.Fatal(err)
	}
	if err := b.ch.ExchangeDelete(b.exchange, false, false); err != nil {
		t.Fatal(err)
	}
	err := d.Deliver(context.Background(), notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), `amqp: exchange "`+b.exchange+`"`) || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Errorf("deleted exchange: %v", err)
	}
	if err := b.ch.ExchangeDeclare(b.exchange, "direct", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.ch.QueueBind(b.queue, b.key, b.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Deliver(context.Background(), notify.Delivery{ID: "after"}); err != nil {
		t.Fatal(err)
	}
	if ms := b.drain(t); len(ms) != 2 || !strings.Contains(string(ms[1].Body), `"after"`) {
		t.Errorf("%d messages", len(ms))
	}
}

// Without a deadline from the caller, each step is bounded: a broker that
// never confirms costs one step; a large set whose confirms keep coming
// may take longer than a step and is delivered.
func TestStepTimeout(t *testing.T) {
	b := setup(t)
	p := brokertest.NewProxy(t, b.addr)
	c := b.conf()
	c.URIs = []string{"amqp://guest:guest@" + p.Addr + "/"}
	d := newDeliverer(t, c)
	d.step = 300 * time.Millisecond
	p.HoldWhenSent([]byte(id))
	start := time.Now()
	err := d.Deliver(context.Background(), notify.Delivery{ID: id})
	if err == nil || !strings.Contains(err.Error(), "waiting for the broker's confirm") || time.Since(start) > 5*time.Second {
		t.Errorf("%v after %v", err, time.Since(start))
	}
	p.Hold(false)
	b.drain(t)

	c = b.conf()
	c.Direct = true
	d = newDeliverer(t, c)
	d.step = time.Second
	start = time.Now()
	if err := d.Deliver(context.Background(), set(5000)); err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	t.Logf("5000 messages in %v, step %v", time.Since(start), d.step)
	if ms := b.drain(t); len(ms) != 5000 {
		t.Errorf("%d messages", len(ms))
	}
}
