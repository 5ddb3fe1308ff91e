package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestClairConfigLoads(t *testing.T) {
	c, err := Load("testdata/clair-v4.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPListenAddr != ":6060" || c.IntrospectionAddr != ":8089" || c.LogLevel != "debug" {
		t.Errorf("addresses/level: %+v", c)
	}
	if c.Indexer.LayerScanConcurrency != 5 || !strings.Contains(c.Indexer.ConnString, "dbname=indexer") {
		t.Errorf("indexer: %+v", c.Indexer)
	}
	if time.Duration(c.Matcher.Period) != 6*time.Hour || c.Matcher.UpdateRetention != 2 {
		t.Errorf("matcher: %+v", c.Matcher)
	}
	if got := c.Updaters.Config["debian"].URL; got != "https://mirror.example/debian/tracker.json" {
		t.Errorf("debian url %q", got)
	}
	if strings.Join(c.Updaters.Sets, ",") != "alpine,debian,ubuntu" {
		t.Errorf("sets %v", c.Updaters.Sets)
	}
	if time.Duration(c.Notifier.DeliveryInterval) != time.Minute || c.Notifier.Webhook == nil {
		t.Errorf("notifier: %+v", c.Notifier)
	}
	if c.Auth.PSK == nil || c.Auth.PSK.Key != "c2VjcmV0" || len(c.Auth.PSK.Issuer) != 2 {
		t.Errorf("auth: %+v", c.Auth.PSK)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPListenAddr != ":6060" || c.IntrospectionAddr != "127.0.0.1:8089" ||
		time.Duration(c.Matcher.Period) != DefaultPeriod || c.Indexer.ConnString != "" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = Parse(strings.NewReader("indexer:\n  connstring: postgres://x@db/clair\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Matcher.ConnString != "postgres://x@db/clair" || c.Notifier.ConnString != "postgres://x@db/clair" {
		t.Errorf("connstrings do not follow the indexer's: %+v %+v", c.Matcher, c.Notifier)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	for in, want := range map[string]string{
		"indexer:\n  conn_string: x\n":               `line 2: unknown key "conn_string" in indexer`,
		"http_listen_adr: :1\n":                      `line 1: unknown key "http_listen_adr" in the top level`,
		"auth:\n  psk:\n    keys: x\n":               `unknown key "keys" in auth.psk`,
		"matcher:\n  period: soon\n":                 `"soon" is not a duration`,
		"matcher:\n  period: 10s\n":                  "matcher.period",
		"log_level: loud\n":                          "log_level",
		"auth:\n  psk:\n    iss: [a]\n":              "auth.psk.key",
		"tls:\n  cert: a.pem\n":                      "tls: both cert and key",
		"indexer: [1, 2]\n":                          "line 1",
		"auth:\n  keyserver:\n    api: x\n":          "auth.keyserver",
		"indexer:\n  layer_scan_concurrency: many\n": "line 2",
	} {
		_, err := Parse(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to say %q", in, err, want)
		}
	}
}

func TestDurationSeconds(t *testing.T) {
	c, err := Parse(strings.NewReader("matcher:\n  period: 3600\n"))
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.Matcher.Period) != time.Hour {
		t.Errorf("period = %v", time.Duration(c.Matcher.Period))
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv(EnvIndexerConn, "sqlite:/tmp/x.db")
	t.Setenv(EnvPSKKey, "a2V5")
	t.Setenv(EnvPSKIssuer, "quay,ci")
	c, err := Parse(strings.NewReader("indexer:\n  connstring: postgres://file@db/x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Indexer.ConnString != "sqlite:/tmp/x.db" || c.Matcher.ConnString != "sqlite:/tmp/x.db" {
		t.Errorf("connstring: %q %q", c.Indexer.ConnString, c.Matcher.ConnString)
	}
	if c.Auth.PSK == nil || c.Auth.PSK.Key != "a2V5" || strings.Join(c.Auth.PSK.Issuer, ",") != "quay,ci" {
		t.Errorf("psk: %+v", c.Auth.PSK)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yaml")
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("err = %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
