package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// AMQP is Clair's `notifier.amqp` section: notifications published to an
// AMQP 0.9.1 exchange the broker's administrator declared.
type AMQP struct {
	// Direct publishes the notifications themselves (Rollup to a message)
	// instead of a callback to page them from.
	Direct bool `yaml:"direct"`
	// Rollup is the most notifications in one direct message; 0 or 1
	// sends each on its own, as Clair does.
	Rollup int `yaml:"rollup"`
	// Exchange is checked with a passive declare: it must exist. The
	// empty name is the broker's default exchange, which routes by queue
	// name.
	Exchange   Exchange `yaml:"exchange"`
	RoutingKey string   `yaml:"routing_key"`
	// Callback is the base URL receivers page a notification set at; the
	// set's id is appended. Unused in direct mode.
	Callback string `yaml:"callback"`
	// URIs are amqp:// or amqps:// broker URLs, tried in order.
	URIs []string `yaml:"uris"`
	TLS  *TLS     `yaml:"tls"`
}

// Exchange names an AMQP exchange as Clair's config does.
type Exchange struct {
	Name       string `yaml:"name"`
	Type       string `yaml:"type"`
	Durable    bool   `yaml:"durability"`
	AutoDelete bool   `yaml:"auto_delete"`
	// LegacyDurable is the spelling of Clair's own example configs
	// (local-dev/clair/config.yaml), which Clair ignores; a passive declare
	// does not use either, so it is accepted and read as durability.
	LegacyDurable bool `yaml:"durable"`
}

// STOMP is Clair's `notifier.stomp` section: notifications sent to a STOMP
// 1.2 destination.
type STOMP struct {
	Direct      bool   `yaml:"direct"`
	Rollup      int    `yaml:"rollup"`
	Callback    string `yaml:"callback"`
	Destination string `yaml:"destination"`
	// URIs are host:port pairs (Clair's name for them), tried in order.
	URIs []string `yaml:"uris"`
	TLS  *TLS     `yaml:"tls"`
	User *Login   `yaml:"user"`
}

// Login is a STOMP broker's login and passcode.
type Login struct {
	Login    string `yaml:"login"`
	Passcode string `yaml:"passcode"`
}

// validateDelivery checks the notifier's delivery sections: at most one
// mechanism, and each with what it cannot deliver without.
func (c *Config) validateDelivery() error {
	n := &c.Notifier
	var set []string
	if n.Webhook != nil {
		set = append(set, "webhook")
	}
	if n.AMQP != nil {
		set = append(set, "amqp")
	}
	if n.STOMP != nil {
		set = append(set, "stomp")
	}
	if len(set) > 1 {
		return fmt.Errorf("notifier: %s are all configured; configure one delivery mechanism", strings.Join(set, ", "))
	}
	if w := n.Webhook; w != nil {
		if err := httpURL(w.Target); err != nil {
			return fmt.Errorf("notifier.webhook.target: %w", err)
		}
		if w.Callback != "" {
			if err := httpURL(w.Callback); err != nil {
				return fmt.Errorf("notifier.webhook.callback: %w", err)
			}
		}
		if w.Signed && c.Auth.PSK == nil {
			return errors.New("notifier.webhook.signed: needs auth.psk (the key the webhook is signed with)")
		}
	}
	if a := n.AMQP; a != nil {
		if len(a.URIs) == 0 {
			return errors.New("notifier.amqp.uris: at least one broker URI is needed")
		}
		for i, s := range a.URIs {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
				return fmt.Errorf("notifier.amqp.uris[%d]: not an amqp:// or amqps:// URL", i)
			}
		}
		if a.Exchange.Name != "" && a.Exchange.Type == "" {
			return fmt.Errorf("notifier.amqp.exchange.type: required for exchange %q", a.Exchange.Name)
		}
		if a.Exchange.Name == "" && a.RoutingKey == "" {
			return errors.New("notifier.amqp.routing_key: required (the default exchange routes by queue name)")
		}
		if err := delivery("notifier.amqp", a.Direct, a.Rollup, a.Callback, a.TLS); err != nil {
			return err
		}
	}
	if s := n.STOMP; s != nil {
		if len(s.URIs) == 0 {
			return errors.New("notifier.stomp.uris: at least one broker host:port is needed")
		}
		for i, u := range s.URIs {
			if _, port, err := net.SplitHostPort(u); err != nil || !validPort(port) {
				return fmt.Errorf("notifier.stomp.uris[%d]: %q is not host:port", i, u)
			}
		}
		if s.Destination == "" {
			return errors.New("notifier.stomp.destination: required")
		}
		if err := delivery("notifier.stomp", s.Direct, s.Rollup, s.Callback, s.TLS); err != nil {
			return err
		}
	}
	return nil
}

func delivery(sect string, direct bool, rollup int, callback string, tls *TLS) error {
	if rollup < 0 {
		return fmt.Errorf("%s.rollup: %d is negative", sect, rollup)
	}
	if !direct && callback != "" {
		if err := httpURL(callback); err != nil {
			return fmt.Errorf("%s.callback: %w", sect, err)
		}
	}
	if tls != nil && (tls.Cert == "") != (tls.Key == "") {
		return fmt.Errorf("%s.tls: both cert and key are needed, or neither", sect)
	}
	return nil
}

// httpURL accepts only absolute http(s) URLs: anything else cannot be
// posted to or paged by a receiver.
func httpURL(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty (an absolute http or https URL is needed)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 1<<16
}
