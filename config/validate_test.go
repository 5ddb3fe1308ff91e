package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file with many mistakes reports every one of them at once, each naming
// its key, the decoder's (unknown keys, wrong types) and the sections'
// alike.
func TestEveryProblemAtOnce(t *testing.T) {
	in := `http_listen_addr: "6060"
log_level: loud
indexer:
  conn_string: x
  layer_scan_concurrency: many
  max_layer_size: -5
  manifest_timeout: -1m
matcher:
  period: 10s
  cache_age: soon
  indexer_addr: clair-indexer:8080
notifier:
  poll_interval: -5s
  webhook:
    target: /relative
    callback: ftp://c/
  stomp:
    uris: ["stomp://h"]
    tls:
      cert: c.pem
auth:
  keyserver: {api: x}
  psk:
    key: "!!!"
    iss: [""]
    max_lifetime: -1h
tls:
  cert: a.pem
  kye: a.key
http:
  max_connections: -1
  read_timeout: -1s
indexr: {}
updaters:
  config:
    debian:
      url: ftp://u:s3cret@mirror/x
    alpine:
      url: /srv/mirror/alpine
`
	_, err := Parse(strings.NewReader(in))
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`http_listen_addr: "6060" is not host:port`,
		`log_level: "loud" is not one of`,
		`line 4: unknown key "conn_string" in indexer`,
		"line 5: indexer.layer_scan_concurrency: `many` (a string) where a whole number is wanted",
		`indexer.max_layer_size: -5 is negative`,
		`indexer.manifest_timeout: -1m0s is negative`,
		`matcher.period: 10s is too short`,
		`line 10: matcher.cache_age: "soon" is not a duration`,
		`matcher.indexer_addr: "clair-indexer:8080" is not an absolute http or https URL`,
		`notifier.poll_interval: -5s is negative`,
		`notifier.webhook.target: "/relative" is not an absolute http or https URL`,
		`notifier.webhook.callback: "ftp://c/" is not an absolute http or https URL`,
		`notifier.stomp.uris[0]: "stomp://h" is not host:port`,
		`notifier.stomp.destination: required`,
		`notifier.stomp.tls: both cert and key are needed, or neither`,
		`notifier: webhook, stomp are all configured`,
		`auth.keyserver: not supported`,
		`auth.psk.key: not valid base64`,
		`auth.psk.iss[0]: empty`,
		`auth.psk.max_lifetime: -1h0m0s is negative`,
		`line 29: unknown key "kye" in tls`,
		`tls: both cert and key are needed`,
		`http.max_connections: -1 is negative`,
		`http.read_timeout: -1s is negative`,
		`line 33: unknown key "indexr" in the top level`,
		`updaters.config.debian.url: "ftp://u:xxxxx@mirror/x" is not an http(s) or file:// URL or an absolute path`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q", w)
		}
	}
	if n := len(strings.Split(msg, "\n")); n != len(want) {
		t.Errorf("%d problems reported, want %d:\n%s", n, len(want), msg)
	}
	if strings.Contains(msg, "s3cret") {
		t.Error("a mirror's password is in the error")
	}
	if t.Failed() {
		t.Logf("error:\n%s", msg)
	}
	// The sections' problems are KeyErrors a caller can pick out.
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key == "" {
		t.Errorf("no KeyError in %v", err)
	}
}

// Validate on a Config built by other means than Parse (server.Boot's
// callers) reports each section's problems under its key path.
func TestValidateKeyErrors(t *testing.T) {
	c, err := Parse(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	c.Indexer.MaxLayerSize = -1
	c.Auth.PSK = &PSK{Key: "not base64!"}
	c.HTTP.IdleTimeout = -1
	var keys []string
	for _, e := range c.Validate().(interface{ Unwrap() []error }).Unwrap() {
		var ke *KeyError
		if !errors.As(e, &ke) {
			t.Fatalf("%v is not a KeyError", e)
		}
		keys = append(keys, ke.Key)
	}
	if got := strings.Join(keys, ","); got != "indexer.max_layer_size,auth.psk.key,http.idle_timeout" {
		t.Errorf("keys %s", got)
	}
}

// Unknown keys are named by where they sit in the document, whatever Go
// type decodes them: the same TLS type sits at three places, and a key in a
// flow mapping or in a list's item is named too.
func TestUnknownKeyPaths(t *testing.T) {
	for in, want := range map[string]string{
		"notifier:\n  amqp:\n    tls:\n      kye: x\n":                     `line 4: unknown key "kye" in notifier.amqp.tls`,
		"notifier:\n  stomp:\n    tls: {cert: a, kye: b}\n":                `line 3: unknown key "kye" in notifier.stomp.tls`,
		"tls:\n  cert: a\n  key: b\n  rootca: c\n":                         `line 4: unknown key "rootca" in tls`,
		"http: {read_timeout: 1s, max_conns: 3}\n":                         `line 1: unknown key "max_conns" in http`,
		"metrics:\n  name: prometheus\n  prom: {}\n":                       `line 3: unknown key "prom" in metrics`,
		"matchers:\n  names: [a]\n  nmes: [b]\n":                           `line 3: unknown key "nmes" in matchers`,
		"base: &b\n  period: 1h\n  nope: 1\nmatcher:\n  <<: *b\n":          `line 1: unknown key "base" in the top level`,
		"indexer:\n  connstring: x\n  scanner:\n    package: {}\n  x: 1\n": `line 5: unknown key "x" in indexer`,
	} {
		_, err := Parse(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to say %q", in, err, want)
		}
	}
}

// A plugin's own settings type, which the config package has never heard
// of, nested three deep with a list: its unknown keys and wrong values are
// named by their path under the plugin's section.
func TestNestedPluginSectionNamed(t *testing.T) {
	type mirror struct {
		URL string `yaml:"url"`
	}
	type settings struct {
		Source struct {
			Mirrors []mirror `yaml:"mirrors"`
			Retries int      `yaml:"retries"`
		} `yaml:"source"`
	}
	raw := map[string]any{"source": map[string]any{
		"retries": "often",
		"mirrors": []any{map[string]any{"url": "a"}, map[string]any{"ulr": "b"}},
	}}
	var s settings
	err := DecodePlugin("updaters.config.myfeed", raw, &s)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`unknown key "ulr" in updaters.config.myfeed.source.mirrors[1]`,
		"updaters.config.myfeed.source.retries: `often` (a string) where a whole number is wanted",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "line ") || strings.Contains(err.Error(), "struct") {
		t.Errorf("error %q names re-encoded lines or Go types", err)
	}
}

// A file of nothing but mistakes (hostile, or a wrong file given) is
// answered with the first maxComplaints of them and a count of the rest,
// not a message as large as the file.
func TestComplaintsBounded(t *testing.T) {
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "key%d: %d\n", i, i)
	}
	_, err := Parse(strings.NewReader(b.String()))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxComplaints+1 || lines[len(lines)-1] != fmt.Sprintf("and %d more", 2000-maxComplaints) ||
		lines[0] != `line 1: unknown key "key0" in the top level` {
		t.Errorf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

// A deeply nested document with a mistake at the bottom is named by its
// whole path.
func TestDeepPathNamed(t *testing.T) {
	const depth = 2000
	in := "updaters:\n  config:\n    deep:\n      url: " + strings.Repeat("{a: ", depth) + "1" + strings.Repeat("}", depth) + "\n"
	_, err := Parse(strings.NewReader(in))
	// url is a string: the nested mapping is a type error, at the top of
	// it.
	if err == nil || !strings.Contains(err.Error(), "line 4: updaters.config.deep.url: a mapping where a string is wanted") {
		t.Errorf("err = %.300v", err)
	}
}

// A section type added to the file tomorrow is named with its line the
// same way, by the decoder the file goes through: nothing to edit but the
// struct.
func TestNewSectionTypeNamed(t *testing.T) {
	type retry struct {
		Max int `yaml:"max"`
	}
	type newSection struct {
		Cache struct {
			Dir   string `yaml:"dir"`
			Retry retry  `yaml:"retry"`
		} `yaml:"cache"`
	}
	var v struct {
		Indexer struct {
			Extra newSection `yaml:"extra"`
		} `yaml:"indexer"`
	}
	_, err := decodeStrict([]byte("indexer:\n  extra:\n    cache:\n      dir: /x\n      retry:\n        max: 3\n        backoff: 1s\n"), &v, "", true)
	if err == nil || err.Error() != `line 7: unknown key "backoff" in indexer.extra.cache.retry` {
		t.Errorf("err = %v", err)
	}
}

// Load names the file once, above its problems, one a line.
func TestLoadNamesFileAboveProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("indexer:\n  max_layer_size: -1\nhttp:\n  max_connections: -2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "config: " + path + ":\nindexer.max_layer_size: -1 is negative\nhttp.max_connections: -2 is negative"
	if err == nil || err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "indexer.max_layer_size" {
		t.Errorf("KeyError lost: %v", ke)
	}
}
