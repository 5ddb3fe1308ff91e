// Package deliver holds what the webhook, AMQP and STOMP deliverers share:
// the callback message, its URL, and direct mode's rollup.
package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/openclair/clair/config"
	"github.com/openclair/clair/notify"
)

// Message is Clair's callback message: the set's id and the URL of its
// first page.
type Message struct {
	NotificationID string `json:"notification_id"`
	Callback       string `json:"callback"`
}

// CallbackURL is base (a mechanism's own `callback` setting) joined with the
// notification set's id, as Clair builds it: base is read as a directory
// whether or not it ends in "/". An empty base falls back to the
// notifier's default, d.Callback.
func CallbackURL(base string, d notify.Delivery) (string, error) {
	if d.ID == "" {
		return "", errors.New("delivery has no notification id")
	}
	if base == "" {
		if d.Callback == "" {
			return "", errors.New("no callback configured for the notification")
		}
		return d.Callback, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("callback: %w", err)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u.JoinPath(d.ID).String(), nil
}

// CallbackBody is the JSON of Message for d.
func CallbackBody(base string, d notify.Delivery) ([]byte, error) {
	cb, err := CallbackURL(base, d)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Message{NotificationID: d.ID, Callback: cb})
}

// Rollup reads d's notifications and encodes them as JSON arrays of at most
// n each (n < 1 is 1: Clair's default sends each on its own). Each body ends
// in a newline, as Clair's encoder writes it. A set without notifications
// gives no bodies.
func Rollup(ctx context.Context, d notify.Delivery, n int) ([][]byte, error) {
	if d.Notifications == nil {
		return nil, errors.New("direct delivery: the delivery cannot list its notifications")
	}
	ns, err := d.Notifications(ctx)
	if err != nil {
		return nil, fmt.Errorf("direct delivery: notifications of %s: %w", d.ID, err)
	}
	if n < 1 {
		n = 1
	}
	var out [][]byte
	for len(ns) > 0 {
		k := min(n, len(ns))
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(ns[:k]); err != nil {
			return nil, fmt.Errorf("direct delivery: %w", err)
		}
		out = append(out, buf.Bytes())
		ns = ns[k:]
	}
	return out, nil
}

// TLSConfig is the client side of a delivery section's tls: root_ca added to
// the system's roots, cert and key presented when given.
func TLSConfig(t *config.TLS) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.RootCA != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(t.RootCA)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("root_ca %s: no PEM certificate", t.RootCA)
		}
		c.RootCAs = pool
	}
	if t.Cert != "" || t.Key != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
