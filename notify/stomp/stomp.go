// Package stomp delivers notifications to a STOMP 1.2 broker
// (go-stomp/stomp), as Clair's `notifier.stomp` does: in callback mode one
// message {"notification_id","callback"} per notification set, in direct
// mode the set's notifications themselves, at most `rollup` to a message.
//
// Every SEND asks for a receipt, so Deliver returns nil only once the broker
// acknowledged each message of the set (RabbitMQ sends the receipt once the
// message is confirmed). Nothing is declared: with RabbitMQ, a destination
// /exchange/<name>/<key> or /amq/queue/<name> names an exchange or queue
// the broker's administrator made, and a missing one is an error.
package stomp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	gostomp "github.com/go-stomp/stomp/v3"

	"github.com/openclair/clair/config"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/notify/internal/deliver"
)

// Name is the mechanism's registry name.
const Name = "stomp"

// DefaultTimeout bounds each step of a delivery: connecting, and each
// message's wait for its receipt. A large direct set takes as long as it
// takes while the broker keeps answering; the caller's ctx bounds the
// whole.
const DefaultTimeout = 30 * time.Second

func init() {
	notify.RegisterDeliverer(Name, func(_ context.Context, cfg *config.Config) (notify.Deliverer, error) {
		if cfg.Notifier.STOMP == nil {
			return nil, nil
		}
		return New(cfg.Notifier.STOMP)
	})
}

// Deliverer sends to one destination over the first of its brokers that
// answers. STOMP has one session per TCP connection and deliveries are
// minutes apart, so each delivery connects anew (as Clair does): a broker
// that restarted in between costs nothing.
type Deliverer struct {
	conf config.STOMP
	tls  *tls.Config
	step time.Duration // DefaultTimeout; shorter in tests
}

// New checks conf and builds a deliverer; it does not connect yet.
func New(conf *config.STOMP) (*Deliverer, error) {
	if conf == nil {
		return nil, errors.New("stomp: no configuration")
	}
	if len(conf.URIs) == 0 {
		return nil, errors.New("stomp: no broker uris")
	}
	if conf.Destination == "" {
		return nil, errors.New("stomp: no destination")
	}
	d := &Deliverer{conf: *conf, step: DefaultTimeout}
	d.conf.URIs = append([]string(nil), conf.URIs...)
	for i, u := range d.conf.URIs {
		if _, _, err := net.SplitHostPort(u); err != nil {
			return nil, fmt.Errorf("stomp: uris[%d]: %w", i, err)
		}
	}
	if conf.TLS != nil {
		c, err := deliver.TLSConfig(conf.TLS)
		if err != nil {
			return nil, fmt.Errorf("stomp: tls: %w", err)
		}
		d.tls = c
	}
	return d, nil
}

// Name implements notify.Deliverer with Clair's names: stomp-<destination>,
// or stomp-direct-<destination> in direct mode.
func (d *Deliverer) Name() string {
	if d.conf.Direct {
		return "stomp-direct-" + d.conf.Destination
	}
	return "stomp-" + d.conf.Destination
}

// Deliver implements notify.Deliverer.
func (d *Deliverer) Deliver(ctx context.Context, n notify.Delivery) error {
	var bodies [][]byte
	if d.conf.Direct {
		var err error
		if bodies, err = deliver.Rollup(ctx, n, d.conf.Rollup); err != nil {
			return fmt.Errorf("stomp: %w", err)
		}
		if len(bodies) == 0 {
			return nil
		}
	} else {
		b, err := deliver.CallbackBody(d.conf.Callback, n)
		if err != nil {
			return fmt.Errorf("stomp: %w", err)
		}
		bodies = [][]byte{b}
	}
	sctx, cancel := context.WithTimeout(ctx, d.step)
	conn, raw, err := d.connect(sctx)
	cancel()
	if err != nil {
		return err
	}
	// go-stomp's calls take no context: an ended ctx ends the socket, which
	// fails whatever waits on it.
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Now()) })
	defer stop()
	for i, b := range bodies {
		err := conn.Send(d.conf.Destination, "application/json", b,
			gostomp.SendOpt.Receipt,
			// Kept across a broker restart where the destination's queue is
			// durable.
			gostomp.SendOpt.Header("persistent", "true"))
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			conn.MustDisconnect()
			return fmt.Errorf("stomp: notification %s to %s: message %d of %d not acknowledged: %w", n.ID, d.conf.Destination, i+1, len(bodies), detail(err))
		}
	}
	// Every message has its receipt; a failed goodbye changes nothing.
	if err := conn.Disconnect(); err != nil {
		conn.MustDisconnect()
	}
	return nil
}

// connect opens a session on the first broker that answers.
func (d *Deliverer) connect(ctx context.Context) (*gostomp.Conn, net.Conn, error) {
	var errs []error
	for _, addr := range d.conf.URIs {
		c, raw, err := d.dial(ctx, addr)
		if err == nil {
			return c, raw, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, fmt.Errorf("stomp: no broker usable: %w", errors.Join(errs...))
}

func (d *Deliverer) dial(ctx context.Context, addr string) (*gostomp.Conn, net.Conn, error) {
	var raw net.Conn
	var err error
	nd := &net.Dialer{}
	if d.tls != nil {
		td := &tls.Dialer{NetDialer: nd, Config: d.tls}
		raw, err = td.DialContext(ctx, "tcp", addr)
	} else {
		raw, err = nd.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, nil, err
	}
	dl, _ := ctx.Deadline()
	raw.SetDeadline(dl) // the handshake; cleared below
	opts := []func(*gostomp.Conn) error{
		// "/" is the broker's default virtual host (RabbitMQ reads the
		// host header as one); the default would send the broker's IP.
		gostomp.ConnOpt.Host("/"),
		gostomp.ConnOpt.AcceptVersion(gostomp.V12),
		gostomp.ConnOpt.RcvReceiptTimeout(d.step),
		gostomp.ConnOpt.Logger(quiet{}),
	}
	if u := d.conf.User; u != nil {
		opts = append(opts, gostomp.ConnOpt.Login(u.Login, u.Passcode))
	}
	c, err := gostomp.ConnectWithContext(ctx, raw, opts...)
	if err != nil {
		raw.Close()
		return nil, nil, fmt.Errorf("connect: %w", detail(err))
	}
	raw.SetDeadline(time.Time{})
	return c, raw, nil
}

// detail adds the first line of a broker's ERROR frame body (RabbitMQ
// says there which exchange is missing, or that the login was refused) to
// go-stomp's error, which carries only the frame's message header.
func detail(err error) error {
	var se gostomp.Error
	if !errors.As(err, &se) || se.Frame == nil || len(se.Frame.Body) == 0 {
		return err
	}
	line, _, _ := strings.Cut(string(se.Frame.Body[:min(len(se.Frame.Body), 200)]), "\n")
	line = strings.ToValidUTF8(strings.TrimSpace(line), "")
	if line == "" || strings.Contains(err.Error(), line) {
		return err
	}
	return fmt.Errorf("%w: %s", err, line)
}

// quiet drops go-stomp's own logging: its errors come back to Deliver.
type quiet struct{}

func (quiet) Debugf(string, ...any)   {}
func (quiet) Debug(string)            {}
func (quiet) Infof(string, ...any)    {}
func (quiet) Info(string)             {}
func (quiet) Warningf(string, ...any) {}
func (quiet) Warning(string)          {}
func (quiet) Errorf(string, ...any)   {}
func (quiet) Error(string)            {}
