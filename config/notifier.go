package config

import (
	"errors"
	"fmt"
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
