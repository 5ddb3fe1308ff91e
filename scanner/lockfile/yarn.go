package lockfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/openclair/clair/scanner"
)

// parseYarn reads a yarn.lock: Berry's YAML (yarn 2 and later, with a
// __metadata entry) or the classic v1 format, which is not YAML and is read
// by hand.
func parseYarn(b []byte, c *collector) error {
	if isBerry(b) {
		return parseYarnBerry(b, c)
	}
	return parseYarnV1(b, c)
}

// isBerry reports whether a yarn.lock has the top-level __metadata entry of
// yarn 2 and later.
func isBerry(b []byte) bool {
	return bytes.HasPrefix(b, []byte("__metadata:")) || bytes.Contains(b, []byte("\n__metadata:"))
}

// yarnSpec splits one descriptor or locator ("lodash@^4.17.0",
// "@babel/core@npm:7.23.0", "alias@npm:real@^1.0.0") into the name and what
// follows the @. The name is before the first @ that does not start it.
func yarnSpec(s string) (name, rest string, ok bool) {
	if len(s) < 2 {
		return "", "", false
	}
	i := strings.IndexByte(s[1:], '@')
	if i < 0 {
		return "", "", false
	}
	return s[:i+1], s[i+2:], true
}

// localProtocol reports whether a yarn range or locator reference points into
// the source tree rather than at a published package.
func localProtocol(ref string) bool {
	for _, p := range []string{"file:", "link:", "portal:", "workspace:", "exec:"} {
		if strings.HasPrefix(ref, p) {
			return true
		}
	}
	return false
}

// parseYarnV1 reads the classic format:
//
//	"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
//	  version "7.12.13"
//	  resolved "https://registry.yarnpkg.com/..."
//	  dependencies:
//	    "@babel/highlight" "^7.12.13"
func parseYarnV1(b []byte, c *collector) error {
	var (
		name, version  string
		local, inEntry bool
		entries        int
	)
	flush := func() {
		if inEntry && name != "" && version != "" && !local {
			c.add(name, version)
		} else if inEntry && name == "" {
			c.invalid++
		}
		name, version, local, inEntry = "", "", false, false
	}
	for line := range bytes.Lines(b) {
		l := strings.TrimRight(string(line), "\r\n")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			// An entry's header: its descriptors, comma-separated.
			flush()
			hdr, ok := strings.CutSuffix(l, ":")
			if !ok {
				return fmt.Errorf("line %q: not an entry header", scanner.Clip(l))
			}
			inEntry = true
			entries++
			local = true
			for _, d := range strings.Split(hdr, ",") {
				d = unquote(strings.TrimSpace(d))
				n, ref, ok := yarnSpec(d)
				if !ok {
					continue
				}
				if real, ok := strings.CutPrefix(ref, "npm:"); ok {
					// An alias: "alias@npm:real@^1.0.0" installs real.
					if rn, _, ok := yarnSpec(real); ok {
						n = rn
					}
				}
				if !localProtocol(ref) {
					local = false
				}
				if name == "" {
					name = n
				}
			}
			continue
		}
		if !inEntry {
			continue
		}
		// Fields are indented by two spaces; deeper lines are the
		// dependencies' lists.
		if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
			k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
			if k == "version" || k == `"version"` {
				version = unquote(strings.TrimSpace(v))
			}
		}
	}
	flush()
	if entries == 0 && !bytes.Contains(b, []byte("yarn lockfile")) {
		return errors.New("no entries")
	}
	return nil
}

// unquote removes the double quotes yarn puts around strings with special
// characters.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}

// berryEntry is one package of a yarn Berry lock file.
type berryEntry struct {
	Version    string `yaml:"version"`
	Resolution string `yaml:"resolution"`
}

// parseYarnBerry reads a yarn 2+ lock file:
//
//	"@babel/core@npm:^7.12.3, @babel/core@npm:^7.23.0":
//	  version: 7.23.0
//	  resolution: "@babel/core@npm:7.23.0"
//
// The resolution names the package installed (an alias's real name) and
// its protocol: npm: and patch: (a patched registry package) are kept, and
// so are git and URL ones; workspace:, link:, portal: and file: ones are
// the tree's own.
func parseYarnBerry(b []byte, c *collector) error {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	for k, n := range doc {
		if k == "__metadata" {
			continue
		}
		var e berryEntry
		if err := n.Decode(&e); err != nil {
			c.invalid++
			continue
		}
		name, ref, ok := yarnSpec(e.Resolution)
		if !ok || e.Version == "" {
			c.invalid++
			continue
		}
		if localProtocol(ref) {
			continue
		}
		c.add(name, e.Version)
	}
	return nil
}
