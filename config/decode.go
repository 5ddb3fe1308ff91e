package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeStrict decodes the YAML document b into v, refusing unknown keys.
// The decoder's complaints name Go types ("field foo not found in type
// config.Indexer"); these are rewritten to name the key's path in the
// document, found by walking the document's nodes to the line the decoder
// gives, so that no list of types has to follow the structs. at is where
// the document sits in the file ("" for the file itself); lines says
// whether the decoder's line numbers are the file's (a plugin's settings
// are re-encoded, and theirs are not). Every complaint is returned, joined;
// partial says the decoder went on past them and v holds the rest of the
// document (it stops only at a syntax error).
func decodeStrict(b []byte, v any, at string, lines bool) (partial bool, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err = dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return true, nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return false, err // a syntax error: yaml's message has the line
	}
	var root yaml.Node
	_ = yaml.Unmarshal(b, &root) // it decoded once; the nodes are there
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		errs = append(errs, errors.New(describe(&root, msg, at, lines)))
	}
	return true, errors.Join(errs...)
}

var (
	lineMsg    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownMsg = regexp.MustCompile(`^field (.+?) not found in type `)
	// yaml's terror: the value's tag, then the scalar (cut at 7 bytes and
	// "..." when longer than 10).
	unmarshalMsg = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.*)$")
)

// describe rewrites one of the decoder's messages about the document at
// root to name the key path.
func describe(root *yaml.Node, msg, at string, lines bool) string {
	m := lineMsg.FindStringSubmatch(msg)
	if m == nil {
		return prefixed(at, msg)
	}
	line, _ := strconv.Atoi(m[1])
	rest := m[2]
	var where string
	if lines {
		where = "line " + m[1] + ": "
	}
	if k := unknownMsg.FindStringSubmatch(rest); k != nil {
		path, ok := keyPath(root, line, k[1], at)
		switch {
		case !ok:
			return where + fmt.Sprintf("unknown key %q", k[1])
		case path == "":
			return where + fmt.Sprintf("unknown key %q in the top level", k[1])
		}
		return where + fmt.Sprintf("unknown key %q in %s", k[1], path)
	}
	path, ok := valuePath(root, line, rest, at)
	rest = plainWords(rest)
	if ok && path != "" {
		return where + path + ": " + rest
	}
	return prefixed(at, where+rest)
}

func prefixed(at, msg string) string {
	if at == "" {
		return msg
	}
	return at + ": " + msg
}

func child(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// keyPath finds the mapping that has key on line and returns the mapping's
// path under at. Aliases are not followed: the decoder reports a key in an
// anchored mapping at the anchor, and that is where the walk finds it.
func keyPath(n *yaml.Node, line int, key, at string) (string, bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := keyPath(c, line, key, at); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line && k.Value == key {
				return at, true
			}
			if p, ok := keyPath(v, line, key, child(at, k.Value)); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := keyPath(c, line, key, fmt.Sprintf("%s[%d]", at, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}

// valuePath finds the value a message about line is about: the one on that
// line, when only one is, else the one whose tag and text the message
// shows ("cannot unmarshal !!str `many` into int").
func valuePath(root *yaml.Node, line int, msg, at string) (string, bool) {
	type cand struct {
		path string
		n    *yaml.Node
	}
	var all []cand
	var walk func(n *yaml.Node, at string)
	walk = func(n *yaml.Node, at string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, at)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Line == line {
					all = append(all, cand{child(at, k.Value), v})
				}
				walk(v, child(at, k.Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", at, i)
				if c.Line == line {
					all = append(all, cand{p, c})
				}
				walk(c, p)
			}
		}
	}
	walk(root, at)
	if len(all) == 1 {
		return all[0].path, true
	}
	u := unmarshalMsg.FindStringSubmatch(msg)
	var found []cand
	for _, c := range all {
		switch {
		case u != nil:
			if c.n.ShortTag() != u[1] {
				continue
			}
			if c.n.Kind == yaml.ScalarNode && !shown(c.n.Value, u[2]) {
				continue
			}
		case c.n.Kind != yaml.ScalarNode || !strings.Contains(msg, strconv.Quote(c.n.Value)):
			continue
		}
		found = append(found, c)
	}
	if len(found) == 1 {
		return found[0].path, true
	}
	return "", false
}

// shown says whether yaml's rendering of a value in a message is v.
func shown(v, msg string) bool {
	if p, ok := strings.CutSuffix(msg, "..."); ok && len(v) > 10 {
		return strings.HasPrefix(v, p)
	}
	return v == msg
}

// plainWords says "cannot unmarshal !!seq into config.Indexer" in the
// file's terms: "a list where a mapping is wanted".
func plainWords(msg string) string {
	u := unmarshalMsg.FindStringSubmatch(msg)
	if u == nil {
		return msg
	}
	got := map[string]string{"!!seq": "a list", "!!map": "a mapping", "!!str": "a string", "!!int": "a number",
		"!!float": "a number", "!!bool": "a boolean", "!!null": "null", "!!timestamp": "a timestamp", "!!binary": "binary"}[u[1]]
	if got == "" {
		got = u[1]
	}
	if u[2] != "" {
		got = "`" + u[2] + "` (" + got + ")"
	}
	want := u[3]
	switch t := strings.TrimLeft(u[3], "*"); {
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "map[") || strings.HasPrefix(t, "struct") || strings.Contains(t, "."):
		want = "a mapping"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		want = "a whole number"
	case strings.HasPrefix(t, "float"):
		want = "a number"
	case t == "bool":
		want = "true or false"
	case t == "string":
		want = "a string"
	}
	return got + " where " + want + " is wanted"
}
