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
// document, found among the document's nodes (walked once) by the line the
// decoder gives, so that no list of types has to follow the structs. at is where
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
	idx := index(&root, at)
	n := min(len(te.Errors), maxComplaints)
	errs := make([]error, 0, n+1)
	for _, msg := range te.Errors[:n] {
		errs = append(errs, errors.New(idx.describe(msg, at, lines)))
	}
	if more := len(te.Errors) - n; more > 0 {
		errs = append(errs, fmt.Errorf("and %d more", more))
	}
	return true, errors.Join(errs...)
}

// maxComplaints bounds the decoder's complaints reported: a 4 MiB file of
// mistakes makes a message nobody reads past the first screen.
const maxComplaints = 100

var (
	lineMsg    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownMsg = regexp.MustCompile(`^field (.+?) not found in type `)
	// yaml's terror: the value's tag, then the scalar (cut at 7 bytes and
	// "..." when longer than 10).
	unmarshalMsg = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.*)$")
)

// describe rewrites one of the decoder's messages to name the key path.
func (idx *docIndex) describe(msg, at string, lines bool) string {
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
		pl, ok := idx.keys[lineKey{line, k[1]}]
		var path string
		if ok {
			path = pl.path()
		}
		switch {
		case !ok:
			return prefixed(at, where+fmt.Sprintf("unknown key %q", k[1]))
		case path == "":
			return where + fmt.Sprintf("unknown key %q in the top level", k[1])
		}
		return where + fmt.Sprintf("unknown key %q in %s", k[1], path)
	}
	path, ok := idx.valuePath(line, rest)
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

type lineKey struct {
	line int
	key  string
}

// place is where a node sits: its parent's place and its own key or
// [index]. Paths are spelled only for the nodes a complaint is about, so a
// deeply nested file costs memory in its nodes, not in its depth squared.
type place struct {
	parent *place
	seg    string // "key" or "[i]"; "" for the document's root
}

func (p *place) path() string {
	var segs []string
	for ; p != nil; p = p.parent {
		if p.seg != "" {
			segs = append(segs, p.seg)
		}
	}
	var b strings.Builder
	for i := len(segs) - 1; i >= 0; i-- {
		if b.Len() > 0 && !strings.HasPrefix(segs[i], "[") {
			b.WriteByte('.')
		}
		b.WriteString(segs[i])
	}
	return b.String()
}

// holds says whether q is inside p.
func (p *place) holds(q *place) bool {
	for ; q != nil; q = q.parent {
		if q.parent == p {
			return true
		}
	}
	return false
}

type value struct {
	at *place
	n  *yaml.Node
}

// docIndex is a document's keys and values by line, walked once, so that
// naming a hundred complaints does not walk the document a hundred times.
type docIndex struct {
	// keys is the place of the mapping holding a key on a line (the first
	// such, in document order).
	keys map[lineKey]*place
	// values are the values starting on a line, with their places.
	values map[int][]value
}

// index walks the document under root, which sits at the path at. Aliases
// are not followed: the decoder reports a key in an anchored mapping at
// the anchor, and that is where the walk finds it.
func index(root *yaml.Node, at string) *docIndex {
	idx := &docIndex{keys: map[lineKey]*place{}, values: map[int][]value{}}
	var walk func(n *yaml.Node, at *place)
	walk = func(n *yaml.Node, at *place) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, at)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				lk := lineKey{k.Line, k.Value}
				if _, seen := idx.keys[lk]; !seen {
					idx.keys[lk] = at
				}
				p := &place{at, k.Value}
				idx.values[v.Line] = append(idx.values[v.Line], value{p, v})
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := &place{at, "[" + strconv.Itoa(i) + "]"}
				idx.values[c.Line] = append(idx.values[c.Line], value{p, c})
				walk(c, p)
			}
		}
	}
	walk(root, &place{seg: at})
	return idx
}

// valuePath finds the value a message about line is about: the one on that
// line, when only one is, else the one whose tag and text the message
// shows ("cannot unmarshal !!str `many` into int").
func (idx *docIndex) valuePath(line int, msg string) (string, bool) {
	all := idx.values[line]
	if len(all) == 1 {
		return all[0].at.path(), true
	}
	u := unmarshalMsg.FindStringSubmatch(msg)
	var found []value
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
	if len(found) == 0 {
		return "", false
	}
	// Several, nested in one another ({a: {a: 1}} where a string is
	// wanted): the decoder complains at the outermost and goes no deeper.
	// A block mapping's line is its first key's, so one holding a flow
	// value on that line is not what a complaint about the line means.
	for i := 1; i < len(found); i++ {
		if !found[i-1].at.holds(found[i].at) {
			return "", false
		}
	}
	for _, c := range found {
		if c.n.Kind == yaml.ScalarNode || c.n.Style&yaml.FlowStyle != 0 {
			return c.at.path(), true
		}
	}
	return found[0].at.path(), true
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
