// Package jsonscan checks JSON by json.Valid's rules in one pass without
// allocation: its grammar (strings without raw control characters, with
// valid escapes; numbers; literals; white space between tokens) and
// encoding/json's nesting limit. Invalid UTF-8 passes, as it passes
// json.Valid. encoding/json's checker steps a state machine through a
// function call per byte, and checking the CVSS objects of a large report
// with it was a third of reading them from the store and most of writing
// them out (FuzzScan holds this one to it).
package jsonscan

import "unicode/utf8"

// MaxDepth is encoding/json's limit on nesting, which json.Valid applies.
const MaxDepth = 10000

// Scan reports whether b is one JSON value, as json.Valid does, and
// whether it is also compact: no white space outside its strings, so that
// json.Compact would leave it as it is.
func Scan(b []byte) (valid, compact bool) {
	s := scanner{b: b}
	i := s.space(0)
	end, ok := s.value(i, 0)
	if !ok || s.space(end) != len(b) {
		return false, false
	}
	return true, !s.spaced
}

// Skip returns where the JSON value starting at b[i] (not white space)
// ends, with ok false where json.Valid would reject the value alone.
func Skip(b []byte, i int) (end int, ok bool) {
	s := scanner{b: b}
	return s.value(i, 0)
}

type scanner struct {
	b      []byte
	spaced bool // white space was passed outside strings
}

// value passes the value at b[i]; depth is the containers already open.
func (s *scanner) value(i, depth int) (int, bool) {
	b := s.b
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		if depth+1 > MaxDepth {
			return i, false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = s.space(i + 1)
		if i < len(b) && b[i] == end {
			return i + 1, true
		}
		for {
			var ok bool
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, false
				}
				if i, ok = str(b, i); !ok {
					return i, false
				}
				if i = s.space(i); i >= len(b) || b[i] != ':' {
					return i, false
				}
				i = s.space(i + 1)
			}
			if i, ok = s.value(i, depth+1); !ok {
				return i, false
			}
			switch i = s.space(i); {
			case i < len(b) && b[i] == ',':
				i = s.space(i + 1)
			case i < len(b) && b[i] == end:
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '"':
		return str(b, i)
	case c == '-' || c >= '0' && c <= '9':
		return number(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return i, false
}

func (s *scanner) space(i int) int {
	j := i
	for j < len(s.b) && (s.b[j] == ' ' || s.b[j] == '\t' || s.b[j] == '\n' || s.b[j] == '\r') {
		j++
	}
	if j > i {
		s.spaced = true
	}
	return j
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// str passes the string at b[i] (its opening quote).
func str(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i++; i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

// number passes a number of JSON's grammar.
func number(b []byte, i int) (int, bool) {
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	return i, true
}

// PlainString reads the string at b[i] (its opening quote) when it holds
// no escape or control character and is valid UTF-8: its bytes are then
// the string json.Unmarshal gives, and s shares b's memory. ok is false
// for anything else, which a caller leaves to encoding/json.
func PlainString(b []byte, i int) (s []byte, end int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	start, ascii := i+1, true
	for j := start; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s = b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, i, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, i, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, i, false
}
