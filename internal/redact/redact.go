// Package redact removes credentials from URLs before they reach logs and
// error messages: a mirror URL may carry a user and password
// (https://user:secret@mirror/…).
package redact

import (
	"net/url"
	"strings"
)

// URL returns raw with the password of its user info replaced by "xxxxx"
// (url.URL.Redacted). A string that does not parse as a URL loses its
// password all the same: the error that quotes it must not leak it.
func URL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority, path, _ := strings.Cut(rest, "/")
	userinfo, host, ok := cutLast(authority, "@")
	if !ok {
		return raw
	}
	user, _, hasPass := strings.Cut(userinfo, ":")
	if hasPass {
		userinfo = user + ":xxxxx"
	}
	out := scheme + "://" + userinfo + "@" + host
	if strings.Contains(rest, "/") {
		out += "/" + path
	}
	return out
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
