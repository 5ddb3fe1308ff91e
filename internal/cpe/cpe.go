// Package cpe splits CPE names, as Red Hat's VEX documents and repository
// mappings write them, into their attributes.
package cpe

import "strings"

// Fields splits a CPE 2.2 URI (cpe:/o:redhat:enterprise_linux:9::baseos)
// or a 2.3 formatted string (cpe:2.3:o:redhat:…) into part, vendor,
// product, version, update, edition, …; nil for anything else. Empty
// attributes are kept as "".
func Fields(s string) []string {
	switch {
	case strings.HasPrefix(s, "cpe:/"):
		return strings.Split(s[len("cpe:/"):], ":")
	case strings.HasPrefix(s, "cpe:2.3:"):
		return strings.Split(s[len("cpe:2.3:"):], ":")
	}
	return nil
}
