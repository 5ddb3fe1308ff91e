package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:secret@mirror.example/alpine/": "https://user:xxxxx@mirror.example/alpine/",
		"https://mirror.example/alpine/":             "https://mirror.example/alpine/",
		"file:///srv/mirror/osv":                     "file:///srv/mirror/osv",
		"/srv/mirror/osv":                            "/srv/mirror/osv",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := URL("https://u:p@x/%zz"); strings.Contains(got, ":p@") {
		t.Errorf("unparsable URL leaked its password: %q", got)
	}
}
