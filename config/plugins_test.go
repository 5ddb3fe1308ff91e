package config

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// testFeed is a registered feed with settings of its own, as a plugin
// written outside this module would have.
type testFeed struct {
	Release string `yaml:"release"`
}

func (testFeed) Name() string       { return "config-test-feed" }
func (testFeed) DefaultURL() string { return "https://example.invalid/feed" }
func (testFeed) Fetch(context.Context, *http.Client, string, string, io.Writer) (string, error) {
	return "", nil
}
func (testFeed) Parse(context.Context, io.ReaderAt, int64, func(*vuln.Advisory) error) error {
	return nil
}
func (f testFeed) Configure(decode func(any) error) (feed.Feed, error) {
	if err := decode(&f); err != nil {
		return nil, err
	}
	return f, nil
}

func init() { feed.Register(testFeed{Release: "default"}) }

func TestPluginSettingsDecoded(t *testing.T) {
	c, err := Parse(strings.NewReader("updaters:\n  sets: [config-test-feed]\n  config:\n    config-test-feed:\n      url: file:///mirror\n      release: \"2024\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	feeds, urls, _, err := c.Feeds(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if len(feeds) != 1 || feeds[0].(testFeed).Release != "2024" {
		t.Fatalf("feeds = %+v, want the test feed configured with release 2024", feeds)
	}
	if urls["config-test-feed"] != "file:///mirror" {
		t.Errorf("urls = %v", urls)
	}
	if reg, _ := feed.Lookup("config-test-feed"); reg.(testFeed).Release != "default" {
		t.Error("Configure changed the registered feed")
	}
}

func TestPluginUnknownKeyNamesThePlugin(t *testing.T) {
	c, err := Parse(strings.NewReader("updaters:\n  sets: [config-test-feed]\n  config:\n    config-test-feed:\n      relase: \"2024\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = c.Feeds(nil)
	if err == nil || !strings.Contains(err.Error(), "updaters.config.config-test-feed") || !strings.Contains(err.Error(), `"relase"`) {
		t.Fatalf("err = %v, want one naming updaters.config.config-test-feed and the key", err)
	}
}

func TestClairUpdaterSetsMapped(t *testing.T) {
	// Clair v4's own names: aws and rhel have counterparts, rhcc has none
	// and is skipped with a warning; nothing refuses to start.
	c, err := Parse(strings.NewReader("updaters:\n  sets: [rhcc, config-test-feed]\n"))
	if err != nil {
		t.Fatal(err)
	}
	feeds, _, warnings, err := c.Feeds(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(feeds) != 1 || feeds[0].Name() != "config-test-feed" || len(warnings) != 1 || !strings.Contains(warnings[0], "rhcc") {
		t.Fatalf("feeds %v, warnings %q", feeds, warnings)
	}
	c, _ = Parse(strings.NewReader("updaters:\n  sets: [nope]\n"))
	if _, _, _, err := c.Feeds(nil); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown set: %v", err)
	}
}

func TestFeedURLFromEnvironment(t *testing.T) {
	c, _ := Parse(strings.NewReader(""))
	env := map[string]string{"CLAIR_FEED_CONFIG_TEST_FEED": "file:///env-mirror"}
	_, urls, _, err := c.Feeds(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if urls["config-test-feed"] != "file:///env-mirror" {
		t.Fatalf("urls = %v", urls)
	}
}

func TestDatabaseURL(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "postgres://clair@db/clair")
	c, err := Parse(strings.NewReader("notifier:\n  connstring: sqlite:/tmp/n.db\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Indexer.ConnString != "postgres://clair@db/clair" || c.Matcher.ConnString != "postgres://clair@db/clair" || c.Notifier.ConnString != "sqlite:/tmp/n.db" {
		t.Fatalf("connstrings %q %q %q", c.Indexer.ConnString, c.Matcher.ConnString, c.Notifier.ConnString)
	}
}

func TestScannerSettingsOfUnknownScannerWarn(t *testing.T) {
	c, err := Parse(strings.NewReader("indexer:\n  scanner:\n    package:\n      rhel_containerscanner:\n        name2repos_mapping_url: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, warnings, err := c.Scanners()
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "indexer.scanner.package.rhel_containerscanner") {
		t.Fatalf("warnings %q, err %v", warnings, err)
	}
}

// testScanner is a registered scanner with settings of its own.
type testScanner struct {
	Depth int `yaml:"depth"`
}

func (testScanner) Name() string       { return "config-test-scanner" }
func (testScanner) Version() string    { return "1" }
func (testScanner) Kind() scanner.Kind { return scanner.KindPackage }
func (testScanner) Wants(string) bool  { return false }
func (testScanner) Scan(context.Context, scanner.File) (*scanner.Result, error) {
	return nil, nil
}
func (s testScanner) Configure(decode func(any) error) (scanner.Scanner, error) {
	if err := decode(&s); err != nil {
		return nil, err
	}
	return s, nil
}

func init() { scanner.Register(testScanner{Depth: 1}) }

func TestScannerSettingsDecoded(t *testing.T) {
	c, err := Parse(strings.NewReader("indexer:\n  scanner:\n    package:\n      config-test-scanner:\n        depth: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	scanners, _, err := c.Scanners()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range scanners {
		if ts, ok := s.(testScanner); ok {
			found = ts.Depth == 3
		}
	}
	if !found {
		t.Fatal("the scanner was not configured from indexer.scanner.package.config-test-scanner")
	}
	c, _ = Parse(strings.NewReader("indexer:\n  scanner:\n    package:\n      config-test-scanner:\n        dpeth: 3\n"))
	if _, _, err := c.Scanners(); err == nil || !strings.Contains(err.Error(), "indexer.scanner.package.config-test-scanner") || !strings.Contains(err.Error(), `"dpeth"`) {
		t.Fatalf("unknown key: %v", err)
	}
}
