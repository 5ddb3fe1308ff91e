// Package webhook delivers notifications by HTTP POST, as Clair's
// `notifier.webhook` does: the body is {"notification_id","callback"}, the
// receiver pages the set at callback, and only a 2xx answer counts as
// delivered.
//
// A callback under a classic API path (its path ends in /v1/notifications/)
// gets Clair v2's body instead, {"Notification":{"Name":id}}: classic
// receivers read the name and page /v1/notifications/{name}. The callback
// setting is the switch, so a Clair v4 config needs no key Clair lacks.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/config"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/notify/internal/deliver"
)

// Name is the mechanism's registry name and each deliverer's name, as Clair
// calls it (the store's receipts are kept per name).
const Name = "webhook"

// Issuer is the "iss" of signed webhooks: Clair's notifier claim.
const Issuer = "clair-notifier"

// DefaultTimeout bounds one POST, answer included: a receiver that hangs
// costs one timeout, then the delivery is retried.
const DefaultTimeout = 30 * time.Second

// maxBody is what is read of a receiver's answer: enough to quote an
// error's first words, never a receiver's whole page.
const maxBody = 64 << 10

func init() {
	notify.RegisterDeliverer(Name, func(_ context.Context, cfg *config.Config) (notify.Deliverer, error) {
		if cfg.Notifier.Webhook == nil {
			return nil, nil
		}
		return New(cfg.Notifier.Webhook, cfg.Auth.PSK, nil)
	})
}

// Deliverer posts to one target.
type Deliverer struct {
	target   *url.URL
	callback string
	headers  http.Header
	key      []byte // nil: unsigned
	client   *http.Client
}

// New builds a webhook deliverer. psk signs the requests when conf.Signed;
// client nil is a client with DefaultTimeout. Redirects are not followed
// (whatever the client says): a POST turned into a GET by a redirect is not a
// delivery, so a 3xx is a failed one.
func New(conf *config.Webhook, psk *config.PSK, client *http.Client) (*Deliverer, error) {
	if conf == nil {
		return nil, errors.New("webhook: no configuration")
	}
	t, err := url.Parse(conf.Target)
	if err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
		return nil, fmt.Errorf("webhook: target %q is not an absolute http or https URL", conf.Target)
	}
	d := &Deliverer{target: t, callback: conf.Callback, headers: http.Header{}}
	for k, vs := range conf.Headers {
		for _, v := range vs {
			d.headers.Add(k, v)
		}
	}
	d.headers.Set("Content-Type", "application/json")
	if conf.Signed {
		if psk == nil {
			return nil, errors.New("webhook: signed, but auth.psk is not configured")
		}
		if d.key, err = auth.DecodeKey(psk.Key); err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
	}
	var c http.Client
	if client != nil {
		c = *client
	} else {
		c.Timeout = DefaultTimeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.client = &c
	return d, nil
}

// Name implements notify.Deliverer.
func (d *Deliverer) Name() string { return Name }

// Deliver implements notify.Deliverer: nil only on a 2xx answer.
func (d *Deliverer) Deliver(ctx context.Context, n notify.Delivery) error {
	cb, err := deliver.CallbackURL(d.callback, n)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	var body []byte
	if classic(cb, n.ID) {
		type name struct{ Name string }
		body, err = json.Marshal(struct{ Notification name }{name{n.ID}})
	} else {
		body, err = json.Marshal(deliver.Message{NotificationID: n.ID, Callback: cb})
	}
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.target.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	for k, vs := range d.headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	if d.key != nil {
		// Short-lived, as Clair signs: a token seen in a receiver's log is
		// worth little.
		tok, err := auth.Sign(d.key, Issuer, time.Minute)
		if err != nil {
			return fmt.Errorf("webhook: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: POST %s: %w", d.target.Redacted(), err)
	}
	defer res.Body.Close()
	// Read (a bounded part of) the answer so the connection can be reused.
	b, _ := limit.ReadAll(res.Body, maxBody)
	if res.StatusCode/100 != 2 {
		msg := fmt.Sprintf("webhook: POST %s: %s", d.target.Redacted(), res.Status)
		if c := clip(b); c != "" {
			msg += ": " + c
		}
		return errors.New(msg)
	}
	return nil
}

// classic reports whether cb is a page of the classic API.
func classic(cb, id string) bool {
	u, err := url.Parse(cb)
	if err != nil {
		return false
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/"+id)
	return strings.HasSuffix(p, "/v1/notifications")
}

// clip is the start of a receiver's answer, one line, printable, at most 200
// bytes: enough to say why, never the receiver's whole page in our log.
func clip(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b[:min(len(b), 4*n)]), "")
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
