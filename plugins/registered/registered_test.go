package registered

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openclair/clair/feed"
	_ "github.com/openclair/clair/plugins"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/version"
	"github.com/openclair/clair/vuln"
)

// mustPanic checks that a registration the registries must refuse panics
// with a message naming what was registered.
func mustPanic(t *testing.T, what, name string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		if msg, _ := r.(string); name != "" && !strings.Contains(msg, name) {
			t.Errorf("%s: panic %q does not name %q", what, msg, name)
		}
	}()
	f()
}

type dupFeed struct{ feed.Feed }

func (dupFeed) Name() string { return "debian" }

type dupScanner struct{ scanner.Scanner }

func (dupScanner) Name() string { return "dpkg" }

type dupScheme struct{}

func (dupScheme) Name() string                          { return "dpkg" }
func (dupScheme) Parse(string) (version.Version, error) { return nil, nil }

func TestRegistriesRefuseDuplicatesAndNil(t *testing.T) {
	mustPanic(t, "feed duplicate", "debian", func() { feed.Register(dupFeed{}) })
	mustPanic(t, "feed nil", "", func() { feed.Register(nil) })
	mustPanic(t, "scanner duplicate", "dpkg", func() { scanner.Register(dupScanner{}) })
	mustPanic(t, "scanner nil", "", func() { scanner.Register(nil) })
	mustPanic(t, "version duplicate", "dpkg", func() { version.Register(dupScheme{}) })
	mustPanic(t, "version nil", "", func() { version.Register(nil) })
	mustPanic(t, "ecosystem duplicate", "pypi", func() { vuln.RegisterEcosystem(vuln.Ecosystem{Name: "pypi", VersionFormat: "pep440"}) })
	mustPanic(t, "ecosystem without format", "", func() { vuln.RegisterEcosystem(vuln.Ecosystem{Name: "x"}) })
	mustPanic(t, "namespace of a shipped distribution", "debian", func() {
		vuln.RegisterNamespace("debian", func(*vuln.Distribution) string { return "x" })
	})
	mustPanic(t, "namespace nil", "", func() { vuln.RegisterNamespace("x", nil) })
}

type extraScanner struct{}

func (extraScanner) Name() string       { return "registered-test" }
func (extraScanner) Version() string    { return "7" }
func (extraScanner) Kind() scanner.Kind { return scanner.KindPackage }
func (extraScanner) Wants(string) bool  { return false }
func (extraScanner) Scan(context.Context, scanner.File) (*scanner.Result, error) {
	return nil, nil
}

type extraFeed struct{}

func (extraFeed) Name() string       { return "registered-test-feed" }
func (extraFeed) DefaultURL() string { return "https://example.invalid/" }
func (extraFeed) Fetch(context.Context, *http.Client, string, string, io.Writer) (string, error) {
	return "", nil
}
func (extraFeed) Parse(context.Context, io.ReaderAt, int64, func(*vuln.Advisory) error) error {
	return nil
}

func TestListShowsPlugins(t *testing.T) {
	scanner.Register(extraScanner{})
	feed.Register(extraFeed{})
	vuln.RegisterEcosystem(vuln.Ecosystem{Name: "registered-test-eco", VersionFormat: "semver", Language: true})
	want := map[Plugin]bool{
		{Kind: "scanner", Name: "registered-test", Version: "7", Detail: "package"}:      false,
		{Kind: "feed", Name: "registered-test-feed", Detail: "https://example.invalid/"}: false,
		{Kind: "ecosystem", Name: "registered-test-eco", Detail: "semver"}:               false,
		{Kind: "scanner", Name: "dpkg", Version: "1", Detail: "package"}:                 false,
		{Kind: "version", Name: "pep440"}:                                                false,
	}
	for _, p := range List() {
		if _, ok := want[p]; ok {
			want[p] = true
		}
	}
	for p, seen := range want {
		if !seen {
			t.Errorf("List() lacks %+v", p)
		}
	}
	if !vuln.IsLanguage("registered-test-eco") {
		t.Error("a registered language ecosystem is not one")
	}
}
