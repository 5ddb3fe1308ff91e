package scanner

import "testing"

func TestMaybeExecutable(t *testing.T) {
	for p, want := range map[string]bool{
		"usr/local/bin/app":                     true,
		"usr/bin/kubectl":                       true,
		"opt/app/server":                        true,
		"app/main":                              true,
		"srv/tool":                              true, // no extension
		"srv/tool.exe":                          true,
		"app/node_modules/lodash/lodash.js":     false,
		"opt/app/package.json":                  false,
		"usr/share/doc/x/copyright":             false,
		"etc/passwd":                            false,
		"usr/lib/x86_64-linux-gnu/libc.so.6":    false,
		"usr/local/lib/python3.12/os.py":        false,
		"usr/local/go/pkg/tool/linux_amd64/vet": true,
		"":                                      false,
		"usr/bin/":                              false,
	} {
		if got := MaybeExecutable(p); got != want {
			t.Errorf("MaybeExecutable(%q) = %v, want %v", p, got, want)
		}
	}
}
