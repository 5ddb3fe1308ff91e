package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/openclair/clair/scanner"
)

// poetryLock is the part of a poetry.lock the scanner reads.
type poetryLock struct {
	Package []struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
		// Category is poetry 1.0-1.1's "main" or "dev"; Groups is poetry
		// 1.2+'s list of dependency groups.
		Category string   `toml:"category"`
		Groups   []string `toml:"groups"`
		Source   struct {
			Type string `toml:"type"`
		} `toml:"source"`
	} `toml:"package"`
}

// parsePoetry reads the [[package]] tables of a poetry.lock, main and dev
// groups alike; packages from a local directory or file are left out.
func parsePoetry(b []byte, c *collector) error {
	var pl poetryLock
	if _, err := toml.Decode(string(b), &pl); err != nil {
		return err
	}
	for _, p := range pl.Package {
		switch p.Source.Type {
		case "directory", "file":
			continue
		}
		dev := p.Category == "dev"
		if len(p.Groups) > 0 {
			dev = !slices.Contains(p.Groups, "main")
		}
		c.record(p.Name, p.Version, dev)
	}
	return nil
}

// uvLock is the part of a uv.lock the scanner reads.
type uvLock struct {
	Package []struct {
		Name    string         `toml:"name"`
		Version string         `toml:"version"`
		Source  map[string]any `toml:"source"`
	} `toml:"package"`
}

// parseUV reads the [[package]] tables of a uv.lock. The project itself and
// its workspace members (source editable or virtual) and local folders and
// files (directory, path) are left out; registry, git and URL sources are
// kept.
func parseUV(b []byte, c *collector) error {
	var ul uvLock
	if _, err := toml.Decode(string(b), &ul); err != nil {
		return err
	}
	for _, p := range ul.Package {
		local := false
		for _, k := range []string{"editable", "virtual", "directory", "path"} {
			if _, ok := p.Source[k]; ok {
				local = true
			}
		}
		if local {
			continue
		}
		if p.Version == "" {
			c.invalid++
			continue
		}
		c.add(p.Name, p.Version)
	}
	return nil
}

// pipfileEntry is one package of a Pipfile.lock section.
type pipfileEntry struct {
	Version string `json:"version"`
}

// parsePipfile reads every package section of a Pipfile.lock: "default",
// "develop" and the custom categories of pipenv 2023 and later; all but
// "_meta". Entries without a version (git, editable, local path) are left
// out.
func parsePipfile(b []byte, c *collector) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	if doc == nil {
		return errors.New("not a JSON object")
	}
	if _, ok := doc["default"]; !ok {
		if _, ok := doc["_meta"]; !ok {
			return errors.New("no _meta or default section")
		}
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "_meta" {
			continue
		}
		var section map[string]json.RawMessage
		if err := json.Unmarshal(doc[k], &section); err != nil {
			c.warn("section %q is not an object", scanner.Clip(k))
			continue
		}
		for name, raw := range section {
			var e pipfileEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				c.invalid++
				continue
			}
			v, ok := strings.CutPrefix(strings.TrimSpace(e.Version), "==")
			if !ok {
				continue // no version, or not a pin
			}
			if k == "default" {
				c.add(name, strings.TrimPrefix(v, "="))
			} else {
				c.addDev(name, strings.TrimPrefix(v, "="))
			}
		}
	}
	return nil
}

// requirementRE is one pinned requirement: a name, optional extras, == or
// ===, a version, and then optionally an environment marker.
var requirementRE = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9!+._-]+)\s*(?:;.*)?$`)

// parseRequirements reads the name==version pins of a requirements.txt, as
// `pip freeze`, pip-compile and `poetry export` write them. Other
// requirements (ranges, URLs, paths) pin nothing and are skipped, and so are
// options. -r includes and -c constraints are recorded as facts for
// Combine, which follows them among the requirements files it was given.
func parseRequirements(b []byte, c *collector) error {
	s, err := decodeText(b)
	if err != nil {
		return err
	}
	// Join continuation lines.
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\\\n", " ")
	var includes, constraints []string
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(stripComment(line))
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "-") {
			opt, arg := splitOption(line)
			switch opt {
			case "-r", "--requirement":
				if arg != "" {
					includes = append(includes, arg)
				}
			case "-c", "--constraint":
				if arg != "" {
					constraints = append(constraints, arg)
				}
			}
			continue
		}
		// Per-requirement options (--hash=...) follow the requirement.
		if i := strings.Index(line, " -"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		m := requirementRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v := m[2]
		if strings.Contains(v, "*") {
			continue // ==1.2.* is a range
		}
		c.add(m[1], v)
	}
	if len(includes) > 0 {
		c.fact("requires", strings.Join(includes, "\n"))
	}
	if len(constraints) > 0 {
		c.fact("constraints", strings.Join(constraints, "\n"))
	}
	return nil
}

// stripComment removes a comment: a # at the start of the line or after
// whitespace (a # inside a URL fragment is no comment).
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// splitOption splits "-r other.txt", "--requirement=other.txt" or
// "-rother.txt" into the option and its argument.
func splitOption(line string) (opt, arg string) {
	if strings.HasPrefix(line, "--") {
		opt, arg, ok := strings.Cut(line, "=")
		if !ok {
			opt, arg, _ = strings.Cut(line, " ")
		}
		return strings.TrimSpace(opt), strings.TrimSpace(arg)
	}
	if len(line) >= 2 {
		return line[:2], strings.TrimSpace(line[2:])
	}
	return line, ""
}

// decodeText decodes a requirements file: UTF-8, or UTF-16 with a byte order
// mark, as Windows editors save them (pip reads both).
func decodeText(b []byte) (string, error) {
	var bigEndian bool
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		bigEndian = true
	default:
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(b) {
			return "", errors.New("not UTF-8 text")
		}
		return string(b), nil
	}
	b = b[2:]
	if len(b)%2 != 0 {
		return "", fmt.Errorf("UTF-16 text of an odd length %d", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u)), nil
}
