package distro

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/openclair/clair/scanner"
)

// ParseOSRelease reads os-release(5) syntax, which lsb-release shares:
// KEY=VALUE lines, "#" comments, blank lines. Values may be unquoted, or
// quoted with double quotes (where a backslash escapes $ " \ and `) or single
// quotes (no escapes), as in a shell; pieces may be concatenated. It follows
// systemd's parser where the spec is silent: whitespace around keys, values
// and lines is dropped, an unquoted value keeps its inner spaces, and a later
// assignment of a key wins.
//
// A line it cannot read is skipped and described in warnings (at most a
// handful), so one bad line does not hide the others.
func ParseOSRelease(b []byte) (fields map[string]string, warnings []string) {
	fields = make(map[string]string)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	skipped := 0
	warn := func(format string, args ...any) {
		if len(warnings) < maxWarnings {
			warnings = append(warnings, fmt.Sprintf(format, args...))
		} else {
			skipped++
		}
	}
	for n := 1; len(b) > 0; n++ {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			warn("line %d: not KEY=VALUE: %q", n, scanner.Clip(s))
			continue
		}
		key := strings.TrimSpace(s[:eq])
		if !validKey(key) {
			warn("line %d: %q is not a variable name", n, scanner.Clip(key))
			continue
		}
		v, err := unquote(strings.TrimSpace(s[eq+1:]))
		if err != nil {
			warn("line %d: %s: %v", n, key, err)
			continue
		}
		fields[key] = strings.ToValidUTF8(v, "\uFFFD")
	}
	if skipped > 0 {
		warnings = append(warnings, fmt.Sprintf("%d more bad lines", skipped))
	}
	return fields, warnings
}

func validKey(k string) bool {
	if k == "" || ('0' <= k[0] && k[0] <= '9') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}

// unquote undoes shell quoting of one already trimmed value.
func unquote(s string) (string, error) {
	if !strings.ContainsAny(s, `"'\`) {
		return s, nil
	}
	var out strings.Builder
	out.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '"':
			i++
			closed := false
			for i < len(s) {
				if s[i] == '"' {
					closed = true
					i++
					break
				}
				// Inside double quotes only these are escaped; any other
				// backslash is literal, as in a shell.
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$\"\\`", s[i+1]) >= 0 {
					out.WriteByte(s[i+1])
					i += 2
					continue
				}
				out.WriteByte(s[i])
				i++
			}
			if !closed {
				return "", fmt.Errorf("unterminated double quote")
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", fmt.Errorf("unterminated single quote")
			}
			out.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '\\':
			// A trailing backslash would continue the line in a shell;
			// os-release has no continuation lines, so it stays literal.
			if i+1 < len(s) {
				i++
			}
			out.WriteByte(s[i])
			i++
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}
