package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/BurntSushi/toml"
)

// cargoLock is the part of a Cargo.lock the scanner reads.
type cargoLock struct {
	Package []struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
		Source  string `toml:"source"`
	} `toml:"package"`
}

// parseCargo reads the [[package]] tables of a Cargo.lock, every format
// version. Crates without a source are the workspace's own (path
// dependencies and members) and are left out; registry and git crates are
// kept.
func parseCargo(b []byte, c *collector) error {
	var cl cargoLock
	if _, err := toml.Decode(string(b), &cl); err != nil {
		return err
	}
	for _, p := range cl.Package {
		if p.Source == "" {
			continue
		}
		c.add(p.Name, p.Version)
	}
	return nil
}

// parseGemfile reads the specs of the GEM and GIT sections of a
// Gemfile.lock:
//
//	GEM
//	  remote: https://rubygems.org/
//	  specs:
//	    actioncable (5.2.3)
//	      actionpack (= 5.2.3)
//	    nokogiri (1.10.3-x86_64-linux)
//
// A spec is indented by four spaces, its dependencies by six. A
// platform-specific gem's platform follows its version after a dash, as
// Bundler writes it; it is cut off (gem versions have no dash). PATH
// sections hold the tree's own gems and are left out.
func parseGemfile(b []byte, c *collector) error {
	var (
		section  string
		inSpecs  bool
		sections int
	)
	for line := range bytes.Lines(b) {
		l := strings.TrimRight(string(line), "\r\n")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if l[0] != ' ' {
			section, inSpecs = strings.TrimSpace(l), false
			if gemfileSections[section] {
				sections++
			}
			continue
		}
		if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
			inSpecs = strings.TrimSpace(l) == "specs:" && (section == "GEM" || section == "GIT")
			continue
		}
		if !inSpecs || !strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "     ") {
			continue
		}
		name, rest, ok := strings.Cut(strings.TrimSpace(l), " ")
		rest = strings.TrimSpace(rest)
		if !ok || !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
			c.invalid++
			continue
		}
		version := rest[1 : len(rest)-1]
		if i := strings.IndexByte(version, '-'); i >= 0 {
			version = version[:i]
		}
		c.add(name, version)
	}
	if sections == 0 {
		return errors.New("no GEM, GIT, PATH, PLATFORMS or DEPENDENCIES section")
	}
	return nil
}

// gemfileSections are the top-level sections Bundler writes.
var gemfileSections = map[string]bool{
	"GEM": true, "GIT": true, "PATH": true, "PLUGIN SOURCE": true, "PLATFORMS": true,
	"DEPENDENCIES": true, "RUBY VERSION": true, "BUNDLED WITH": true, "CHECKSUMS": true,
}

// composerLock is the part of a composer.lock the scanner reads.
type composerLock struct {
	Packages    []json.RawMessage `json:"packages"`
	PackagesDev []json.RawMessage `json:"packages-dev"`
}

// composerPackage is one package of a composer.lock.
type composerPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Dist    struct {
		Type string `json:"type"`
	} `json:"dist"`
}

// parseComposer reads "packages" and "packages-dev" of a composer.lock.
// Packages from a path repository (the tree's own) are left out. Versions
// lose a leading "v" before a digit ("v4.2.7" → "4.2.7"), as scanner/php
// writes them: osv.dev's Packagist advisories (from GHSA) have none.
// Branch versions ("dev-main") are kept as they are.
func parseComposer(b []byte, c *collector) error {
	var cl composerLock
	if err := json.Unmarshal(b, &cl); err != nil {
		return err
	}
	if cl.Packages == nil && cl.PackagesDev == nil {
		return errors.New("no packages or packages-dev")
	}
	for i, raw := range append(cl.Packages, cl.PackagesDev...) {
		var p composerPackage
		if err := json.Unmarshal(raw, &p); err != nil {
			c.invalid++
			continue
		}
		if p.Dist.Type == "path" {
			continue
		}
		c.record(p.Name, trimV(strings.TrimSpace(p.Version)), i >= len(cl.Packages))
	}
	return nil
}

// trimV drops a leading "v" or "V" before a digit.
func trimV(v string) string {
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}
