// Package amqp delivers notifications to an AMQP 0.9.1 broker
// (rabbitmq/amqp091-go), as Clair's `notifier.amqp` does: in callback mode
// one message {"notification_id","callback"} per notification set, in
// direct mode the set's notifications themselves, at most `rollup` to a
// message (a JSON array each).
//
// The exchange is only checked, with a passive declare, never created: the
// broker's administrator declares exchanges, queues and bindings. Messages
// are published mandatory and with publisher confirms, so Deliver returns
// nil only once the broker acknowledged every message of the set and routed
// each to at least one queue; an unroutable message, a nack, a closed
// channel or a lost connection is an error and the set is tried again.
package amqp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/openclair/clair/config"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/notify/internal/deliver"
)

// Name is the mechanism's registry name.
const Name = "amqp"

// DefaultTimeout bounds each step of a delivery: connecting with the
// exchange check, and each wait for the broker's next confirm. A large
// direct set takes as long as it takes while the broker keeps confirming;
// the caller's ctx bounds the whole.
const DefaultTimeout = 30 * time.Second

// AppID is the app-id property of every message, Clair's.
const AppID = "clairV4-notifier"

func init() {
	notify.RegisterDeliverer(Name, func(_ context.Context, cfg *config.Config) (notify.Deliverer, error) {
		if cfg.Notifier.AMQP == nil {
			return nil, nil
		}
		return New(cfg.Notifier.AMQP)
	})
}

// Deliverer publishes to one exchange over the first of its brokers that
// answers, keeping the connection between deliveries and dialling again
// once it broke.
type Deliverer struct {
	conf config.AMQP
	tls  *tls.Config
	uris []string

	step time.Duration // DefaultTimeout; shorter in tests

	mu   sync.Mutex
	conn *amqp.Connection
	raw  net.Conn // conn's socket, for ending a delivery when ctx ends
}

// New checks conf and builds a deliverer; it does not connect yet.
func New(conf *config.AMQP) (*Deliverer, error) {
	if conf == nil {
		return nil, errors.New("amqp: no configuration")
	}
	if len(conf.URIs) == 0 {
		return nil, errors.New("amqp: no broker uris")
	}
	d := &Deliverer{conf: *conf, uris: append([]string(nil), conf.URIs...), step: DefaultTimeout}
	for i, u := range d.uris {
		if _, err := amqp.ParseURI(u); err != nil {
			return nil, fmt.Errorf("amqp: uris[%d]: %w", i, err)
		}
	}
	if conf.TLS != nil {
		c, err := deliver.TLSConfig(conf.TLS)
		if err != nil {
			return nil, fmt.Errorf("amqp: tls: %w", err)
		}
		d.tls = c
	}
	return d, nil
}

// Name implements notify.Deliverer with Clair's names: amqp-<exchange>, or
// amqp-direct-<exchange> in direct mode.
func (d *Deliverer) Name() string {
	if d.conf.Direct {
		return "amqp-direct-" + d.conf.Exchange.Name
	}
	return "amqp-" + d.conf.Exchange.Name
}

// Close closes the kept connection, if any.
func (d *Deliverer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	// A broker that stopped answering must not hold Close up.
	d.raw.SetDeadline(time.Now().Add(5 * time.Second))
	err := d.conn.Close()
	d.conn, d.raw = nil, nil
	if errors.Is(err, amqp.ErrClosed) {
		err = nil
	}
	return err
}

// Deliver implements notify.Deliverer.
func (d *Deliverer) Deliver(ctx context.Context, n notify.Delivery) error {
	var bodies [][]byte
	if d.conf.Direct {
		var err error
		if bodies, err = deliver.Rollup(ctx, n, d.conf.Rollup); err != nil {
			return fmt.Errorf("amqp: %w", err)
		}
		if len(bodies) == 0 {
			return nil // nothing to send is sent
		}
	} else {
		b, err := deliver.CallbackBody(d.conf.Callback, n)
		if err != nil {
			return fmt.Errorf("amqp: %w", err)
		}
		bodies = [][]byte{b}
	}
	// One delivery at a time: amqp091's calls do not take a context, so
	// an ended ctx ends the connection's socket instead, and that must not
	// hit another delivery.
	d.mu.Lock()
	defer d.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, d.step)
	ch, err := d.channel(sctx)
	cancel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := d.publish(ctx, ch, bodies); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		// Whatever the broker has of this set, the next try starts on a
		// clean connection.
		d.dropLocked()
		return fmt.Errorf("amqp: notification %s to exchange %q: %w", n.ID, d.conf.Exchange.Name, err)
	}
	return nil
}

func (d *Deliverer) dropLocked() {
	if d.conn != nil {
		d.raw.SetDeadline(time.Now())
		d.conn.Close()
		d.conn, d.raw = nil, nil
	}
}

// channel opens a channel on the kept connection, or on a new one when
// there is none or it broke (a restarted broker), and checks the exchange
// on it.
func (d *Deliverer) channel(ctx context.Context) (*amqp.Channel, error) {
	if d.conn != nil {
		if !d.conn.IsClosed() {
			stop := d.bind(ctx, d.raw)
			ch, err := d.conn.Channel()
			if err == nil {
				err = d.checkExchange(ch)
			}
			if !stop() {
				d.dropLocked()
				return nil, fmt.Errorf("amqp: %w", ctx.Err())
			}
			if err == nil {
				return ch, nil
			}
			if ae := (*amqp.Error)(nil); errors.As(err, &ae) && !ae.Recover {
				// A connection error: the broker went away; dial again.
			} else if !errors.Is(err, amqp.ErrClosed) {
				return nil, fmt.Errorf("amqp: %w", err)
			}
		}
		d.dropLocked()
	}
	var errs []error
	for _, u := range d.uris {
		conn, raw, err := d.dial(ctx, u)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", redact(u), err))
			continue
		}
		stop := d.bind(ctx, raw)
		ch, err := conn.Channel()
		if err != nil {
			err = fmt.Errorf("channel: %w", err)
		} else {
			err = d.checkExchange(ch)
		}
		if !stop() {
			raw.Close()
			return nil, fmt.Errorf("amqp: %w", ctx.Err())
		}
		if err != nil {
			// A broker without the exchange is the wrong broker: try the
			// next, as Clair does.
			raw.SetDeadline(time.Now())
			conn.Close()
			errs = append(errs, fmt.Errorf("%s: %w", redact(u), err))
			continue
		}
		d.conn, d.raw = conn, raw
		return ch, nil
	}
	return nil, fmt.Errorf("amqp: no broker usable: %w", errors.Join(errs...))
}

// checkExchange declares the exchange passively: it must exist. A failed
// check closes ch (the broker closes the channel), so the caller drops it.
func (d *Deliverer) checkExchange(ch *amqp.Channel) error {
	e := d.conf.Exchange
	if e.Name == "" {
		return nil // the default exchange always exists and cannot be declared
	}
	if err := ch.ExchangeDeclarePassive(e.Name, e.Type, e.Durable || e.LegacyDurable, e.AutoDelete, false, false, nil); err != nil {
		ch.Close()
		return fmt.Errorf("exchange %q: %w", e.Name, err)
	}
	return nil
}

// bind ends raw's reads and writes when ctx ends, until the returned stop
// is called; stop reports whether ctx was still live.
func (d *Deliverer) bind(ctx context.Context, raw net.Conn) (stop func() bool) {
	s := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Now()) })
	return func() bool { return s() && ctx.Err() == nil }
}

func (d *Deliverer) dial(ctx context.Context, uri string) (*amqp.Connection, net.Conn, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("clair-notifier")
	var raw net.Conn
	conn, err := amqp.DialConfig(uri, amqp.Config{
		TLSClientConfig: d.tls,
		Properties:      props,
		Dial: func(network, addr string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The handshake is bounded too; amqp091 clears the deadline
			// once the connection is open.
			dl, _ := ctx.Deadline()
			if err := c.SetDeadline(dl); err != nil {
				c.Close()
				return nil, err
			}
			raw = c
			return c, nil
		},
	})
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		return nil, nil, err
	}
	return conn, raw, nil
}

// publish sends bodies in confirm mode and waits for every confirm. A
// message the exchange cannot route comes back (mandatory) before its ack.
func (d *Deliverer) publish(ctx context.Context, ch *amqp.Channel, bodies [][]byte) error {
	stop := d.bind(ctx, d.raw)
	defer stop()
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	returns := ch.NotifyReturn(make(chan amqp.Return, len(bodies)))
	if err := ch.Confirm(false); err != nil {
		return fmt.Errorf("confirm mode: %w", err)
	}
	confirms := make([]*amqp.DeferredConfirmation, 0, len(bodies))
	// A broker that stops reading (a memory alarm blocks publishers) fails
	// the write after a step, whatever the caller's ctx says.
	defer d.raw.SetWriteDeadline(time.Time{})
	for _, b := range bodies {
		d.raw.SetWriteDeadline(time.Now().Add(d.step))
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, d.conf.Exchange.Name, d.conf.RoutingKey, true, false, amqp.Publishing{
			ContentType:  "application/json",
			AppId:        AppID,
			DeliveryMode: amqp.Persistent,
			Timestamp:    time.Now().UTC(),
			Body:         b,
		})
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		confirms = append(confirms, dc)
	}
	for i, dc := range confirms {
		wctx, cancel := context.WithTimeout(ctx, d.step)
		ok, err := dc.WaitContext(wctx)
		cancel()
		if err != nil {
			return fmt.Errorf("waiting for the broker's confirm of message %d of %d: %w", i+1, len(confirms), err)
		}
		if !ok {
			select {
			case e := <-closed:
				if e != nil {
					return fmt.Errorf("message %d of %d not confirmed: channel closed: %w", i+1, len(confirms), e)
				}
			default:
			}
			return fmt.Errorf("message %d of %d not confirmed: the broker refused it (nack) or the connection was lost", i+1, len(confirms))
		}
	}
	select {
	case r := <-returns:
		return fmt.Errorf("message unroutable: %d %s (no queue bound for routing key %q)", r.ReplyCode, r.ReplyText, r.RoutingKey)
	default:
	}
	return nil
}

// redact drops the password of a broker URI for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable uri)"
	}
	return u.Redacted()
}
