package config

import (
	"strings"
	"testing"
)

// Clair's documented notifier sections (quay/clair, Documentation's config
// reference) load into the typed structs with their exact keys.
func TestNotifierDeliverySections(t *testing.T) {
	c, err := Parse(strings.NewReader(`
auth:
  psk:
    key: c2VjcmV0
notifier:
  amqp:
    direct: true
    rollup: 5
    exchange:
      name: clair
      type: direct
      durability: true
      auto_delete: false
    routing_key: notifications
    callback: http://clair-notifier/notifier/api/v1/notification/
    uris: ["amqp://guest:guest@127.0.0.1:5672/", "amqps://b.example:5671/"]
    tls:
      root_ca: /ca.pem
      cert: /c.pem
      key: /k.pem
`))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Notifier.AMQP
	if a == nil || !a.Direct || a.Rollup != 5 || a.Exchange != (Exchange{Name: "clair", Type: "direct", Durable: true}) ||
		a.RoutingKey != "notifications" || len(a.URIs) != 2 || a.TLS == nil || a.TLS.RootCA != "/ca.pem" {
		t.Errorf("amqp: %+v", a)
	}
	c, err = Parse(strings.NewReader(`
notifier:
  stomp:
    direct: false
    rollup: 0
    callback: http://clair-notifier/notifier/api/v1/notification/
    destination: /queue/clair
    uris: ["127.0.0.1:61613"]
    user:
      login: guest
      passcode: guest
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Notifier.STOMP
	if s == nil || s.Destination != "/queue/clair" || s.User == nil || s.User.Login != "guest" || s.User.Passcode != "guest" || s.URIs[0] != "127.0.0.1:61613" {
		t.Errorf("stomp: %+v", s)
	}
}

func TestNotifierDeliveryErrors(t *testing.T) {
	amqp := "notifier:\n  amqp:\n    routing_key: k\n    uris: [\"amqp://h/\"]\n"
	for in, want := range map[string]string{
		"notifier:\n  amqp:\n    exchang: {}\n":                                                     `line 3: unknown key "exchang" in notifier.amqp`,
		"notifier:\n  amqp:\n    exchange:\n      durabel: true\n":                                  `line 4: unknown key "durabel" in notifier.amqp.exchange`,
		"notifier:\n  stomp:\n    user:\n      password: x\n":                                       `line 4: unknown key "password" in notifier.stomp.user`,
		"notifier:\n  stomp:\n    uri: [x]\n":                                                       `unknown key "uri" in notifier.stomp`,
		"notifier:\n  webhook:\n    callback: http://c/\n":                                          "notifier.webhook.target: empty",
		"notifier:\n  webhook:\n    target: /relative\n":                                            "notifier.webhook.target",
		"notifier:\n  webhook:\n    target: http://t/\n    signed: true\n":                          "notifier.webhook.signed: needs auth.psk",
		"notifier:\n  webhook:\n    target: http://t/\n    callback: ftp://c/\n":                    "notifier.webhook.callback",
		"notifier:\n  webhook:\n    target: http://t/\n  stomp:\n    uris: [h:1]\n":                 "webhook, stomp are all configured",
		"notifier:\n  amqp:\n    routing_key: k\n":                                                  "notifier.amqp.uris: at least one",
		"notifier:\n  amqp:\n    routing_key: k\n    uris: [\"http://h/\"]\n":                       "notifier.amqp.uris[0]",
		amqp + "    exchange:\n      name: x\n":                                                     `notifier.amqp.exchange.type: required for exchange "x"`,
		amqp + "    rollup: -1\n":                                                                   "notifier.amqp.rollup: -1 is negative",
		amqp + "    tls:\n      cert: c.pem\n":                                                      "notifier.amqp.tls: both cert and key",
		"notifier:\n  amqp:\n    uris: [\"amqp://h/\"]\n":                                           "notifier.amqp.routing_key: required",
		"notifier:\n  stomp:\n    destination: /queue/x\n    uris: [\"stomp://h\"]\n":               `notifier.stomp.uris[0]: "stomp://h" is not host:port`,
		"notifier:\n  stomp:\n    uris: [\"h:1\"]\n":                                                "notifier.stomp.destination: required",
		"notifier:\n  stomp:\n    destination: /queue/x\n    uris: [\"h:1\"]\n    callback: nope\n": "notifier.stomp.callback",
	} {
		_, err := Parse(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to say %q", in, err, want)
		}
	}
	// The AMQP URI's password is never repeated in an error.
	_, err := Parse(strings.NewReader("notifier:\n  amqp:\n    routing_key: k\n    uris: [\"http://u:s3cret@h/\"]\n"))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v", err)
	}
}

// Clair's local-dev config (quay/clair, local-dev/clair/config.yaml) has this
// amqp section commented out; uncommented, it loads.
func TestClairLocalDevAMQP(t *testing.T) {
	c, err := Parse(strings.NewReader(`
notifier:
  amqp:
    direct: true
    exchange:
      name: ""
      type: "direct"
      durable: true
      auto_delete: false
    uris: ["amqp://guest:guest@clair-rabbitmq:5672/"]
    routing_key: "notifications"
    callback: "http://clair-notifier/notifier/api/v1/notifications"
`))
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Notifier.AMQP; !a.Direct || a.Exchange.Name != "" || !a.Exchange.LegacyDurable || a.RoutingKey != "notifications" {
		t.Errorf("%+v", a)
	}
}
