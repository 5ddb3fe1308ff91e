package report

import (
	"bytes"
	"io"
)

// indenter writes compact JSON (what json.Marshal and reportjson write)
// indented as json.Indent(dst, src, "", "  ") does, as it streams through:
// the JSON output of a large image's report is 15 MB, and json.Indent (and
// json.Encoder's SetIndent, which calls it) took four fifths of writing it,
// stepping a state machine through a function call per byte. Text within
// strings, most of the bytes, is copied a run at a time. Input that is not
// compact JSON is not its business: TestIndenter holds it to json.Indent on
// compact input (FuzzIndenter too), whitespace outside strings included.
type indenter struct {
	w     io.Writer
	out   []byte
	depth int
	inStr bool
	esc   bool // the previous byte in a string was an unpaired '\\'
	// open is the '{' or '[' written last, whose newline waits for the
	// next byte: an empty object or array stays "{}" or "[]".
	open byte
	err  error
}

const indentFlush = 64 << 10

func newIndenter(w io.Writer) *indenter {
	return &indenter{w: w, out: make([]byte, 0, indentFlush+4<<10)}
}

func (ind *indenter) newline() {
	ind.out = append(ind.out, '\n')
	for range ind.depth {
		ind.out = append(ind.out, ' ', ' ')
	}
}

func (ind *indenter) Write(p []byte) (int, error) {
	if ind.err != nil {
		return 0, ind.err
	}
	for i := 0; i < len(p); {
		if ind.inStr {
			// Copy up to the next quote or backslash at once.
			j := i
			if !ind.esc {
				k := bytes.IndexAny(p[i:], `"\`)
				if k < 0 {
					ind.out = append(ind.out, p[i:]...)
					break
				}
				j = i + k
			}
			ind.out = append(ind.out, p[i:j]...)
			c := p[j]
			ind.out = append(ind.out, c)
			switch {
			case ind.esc:
				ind.esc = false
			case c == '\\':
				ind.esc = true
			default: // '"'
				ind.inStr = false
			}
			i = j + 1
			continue
		}
		c := p[i]
		i++
		if ind.open != 0 {
			o := ind.open
			ind.open = 0
			if c == '}' && o == '{' || c == ']' && o == '[' {
				ind.out = append(ind.out, c)
				continue
			}
			ind.depth++
			ind.newline()
		}
		switch c {
		case '"':
			ind.inStr = true
			ind.out = append(ind.out, c)
		case '{', '[':
			ind.out = append(ind.out, c)
			ind.open = c
		case '}', ']':
			ind.depth--
			ind.newline()
			ind.out = append(ind.out, c)
		case ',':
			ind.out = append(ind.out, c)
			ind.newline()
		case ':':
			ind.out = append(ind.out, ':', ' ')
		default:
			ind.out = append(ind.out, c)
		}
		if len(ind.out) >= indentFlush {
			ind.flush()
		}
	}
	if len(ind.out) >= indentFlush {
		ind.flush()
	}
	return len(p), ind.err
}

func (ind *indenter) flush() {
	if ind.err == nil && len(ind.out) > 0 {
		_, ind.err = ind.w.Write(ind.out)
	}
	ind.out = ind.out[:0]
}

// Close writes what is buffered.
func (ind *indenter) Close() error {
	ind.flush()
	return ind.err
}
