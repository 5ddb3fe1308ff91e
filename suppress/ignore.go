package suppress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/openclair/clair/limit"
)

// DefaultIgnoreFile is the ignore file read from the working directory
// when --ignore-file is not given.
const DefaultIgnoreFile = ".clairignore.yaml"

// ignoreFields are an ignore entry's keys.
var ignoreFields = []string{"id", "package", "version", "path", "expires", "reason"}

// LoadFile reads an ignore file or a VEX document (told apart by content:
// VEX is JSON with OpenVEX's @context or CycloneDX's bomFormat).
func LoadFile(ctx context.Context, name string, vex bool) ([]Rule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("suppress: %w", err)
	}
	defer f.Close()
	b, err := limit.ReadAll(f, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("suppress: %s: %w", name, err)
	}
	if vex {
		return ParseVEX(name, b)
	}
	return ParseIgnore(name, b)
}

// ParseIgnore reads an ignore file: YAML, either a list of entries or a
// mapping with the list under "ignore" (or "vulnerabilities"; an entry's
// "vulnerability" is its "id"):
//
//	ignore:
//	  - id: CVE-2024-28085          # or any alias (GHSA-..., DSA-...)
//	    package: bsdutils           # optional: binary or source package name
//	    version: 1:2.36.1-8+deb11u1 # optional: installed version
//	    path: usr/lib/*.jar         # optional: path pattern of a language package
//	    expires: 2026-12-31         # optional: last day it applies (or RFC 3339)
//	    reason: not reachable from the entry point
//
// Errors name the file and line.
func ParseIgnore(name string, b []byte) ([]Rule, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file ignores nothing
		}
		return nil, fmt.Errorf("suppress: %s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	list := root
	if root.Kind == yaml.MappingNode {
		list = nil
		for i := 0; i+1 < len(root.Content); i += 2 {
			k := root.Content[i]
			if k.Value != "ignore" && k.Value != "vulnerabilities" {
				return nil, fmt.Errorf("suppress: %s: line %d: unknown key %q (want ignore)", name, k.Line, k.Value)
			}
			list = root.Content[i+1]
		}
		if list == nil {
			return nil, nil
		}
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("suppress: %s: line %d: want a list of entries", name, list.Line)
	}
	var rules []Rule
	for _, e := range list.Content {
		r, err := ignoreEntry(name, e)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func ignoreEntry(name string, e *yaml.Node) (Rule, error) {
	r := Rule{Source: fmt.Sprintf("ignore-file %s line %d", name, e.Line)}
	if e.Kind != yaml.MappingNode {
		return r, fmt.Errorf("suppress: %s: line %d: an entry is a mapping with id, package, version, path, expires, reason", name, e.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(e.Content); i += 2 {
		k, v := e.Content[i], e.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return r, fmt.Errorf("suppress: %s: line %d: %s: want a single value", name, v.Line, k.Value)
		}
		val := strings.TrimSpace(v.Value)
		key := k.Value
		if key == "vulnerability" {
			key = "id"
		}
		if seen[key] {
			return r, fmt.Errorf("suppress: %s: line %d: %s given twice", name, k.Line, key)
		}
		seen[key] = true
		switch key {
		case "id":
			r.IDs = []string{val}
		case "package":
			r.Package = val
		case "version":
			r.Version = val
		case "path":
			r.Path = strings.TrimPrefix(val, "/")
		case "reason":
			r.Reason = val
		case "expires":
			t, err := parseExpires(val)
			if err != nil {
				return r, fmt.Errorf("suppress: %s: line %d: expires %q: want a date (2026-12-31) or an RFC 3339 time", name, v.Line, val)
			}
			r.Expires, r.expiresText = t, val
		default:
			return r, fmt.Errorf("suppress: %s: line %d: unknown field %q (want %s)", name, k.Line, k.Value, strings.Join(ignoreFields, ", "))
		}
	}
	if len(r.IDs) == 0 || r.IDs[0] == "" {
		return r, fmt.Errorf("suppress: %s: line %d: entry without an id", name, e.Line)
	}
	if r.Reason == "" {
		r.Reason = "(no reason given)"
	}
	return r, nil
}

// parseExpires reads a date (the entry applies through that day, UTC) or
// an RFC 3339 time.
func parseExpires(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	return time.Parse(time.RFC3339, s)
}
