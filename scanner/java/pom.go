package java

import (
	"bufio"
	"bytes"
	"strings"
	"unicode/utf8"
)

// parsePomProperties reads the groupId, artifactId and version of a
// pom.properties, a java.util.Properties file: "key=value", "key: value" or
// "key value" lines, "#" and "!" comments, "\" continuations and escapes.
func parsePomProperties(b []byte) props {
	var p props
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxPomProperties+1)
	var logical strings.Builder
	for sc.Scan() {
		line := strings.TrimLeft(strings.TrimRight(sc.Text(), "\r"), " \t\f")
		if logical.Len() == 0 && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if cont := trailingBackslashes(line)%2 == 1; cont {
			logical.WriteString(line[:len(line)-1])
			continue
		}
		logical.WriteString(line)
		k, v := splitProperty(logical.String())
		logical.Reset()
		switch k {
		case "groupId":
			p.group = cleanValue(v)
		case "artifactId":
			p.artifact = cleanValue(v)
		case "version":
			p.version = cleanValue(v)
		}
	}
	return p
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

// splitProperty splits a logical line at the first unescaped "=", ":" or
// white space, and unescapes key and value.
func splitProperty(line string) (key, value string) {
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
	}
	if i > len(line) {
		i = len(line)
	}
	key, rest := line[:i], line[i:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return unescape(key), unescape(rest)
}

func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			var r rune
			j := i + 1
			for ; j < len(s) && j < i+5; j++ {
				d := s[j]
				switch {
				case d >= '0' && d <= '9':
					r = r<<4 | rune(d-'0')
				case d >= 'a' && d <= 'f':
					r = r<<4 | rune(d-'a'+10)
				case d >= 'A' && d <= 'F':
					r = r<<4 | rune(d-'A'+10)
				default:
					j = len(s) + 1 // malformed: drop the escape
				}
			}
			if j == i+5 {
				b.WriteRune(r)
				i += 4
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// cleanValue returns v trimmed, or "" when it cannot be a coordinate: too
// long, not UTF-8, with control characters, or an unresolved "${...}".
func cleanValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > maxValue || !utf8.ValidString(v) || strings.Contains(v, "${") {
		return ""
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	return v
}
