package scanner

import (
	"path"
	"strings"
)

// binDirs are directories whose files may be executables whatever their
// names.
var binDirs = []string{"bin/", "sbin/", "usr/bin/", "usr/sbin/", "usr/local/bin/", "usr/local/sbin/", "opt/", "app/"}

// skipDirs hold no executables worth a look, however their files are named.
var skipDirs = []string{"usr/share/", "usr/include/", "etc/", "var/lib/dpkg/", "var/lib/rpm/", "var/lib/apk/", "var/cache/", "var/log/", "proc/", "sys/", "dev/"}

// notExecutable are extensions no compiled executable carries: application
// folders (opt/, app/) are full of them, and each one wanted is a copy.
var notExecutable = map[string]bool{
	".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".map": true, ".json": true, ".md": true,
	".txt": true, ".html": true, ".css": true, ".py": true, ".pyc": true, ".rb": true, ".java": true,
	".class": true, ".jar": true, ".xml": true, ".yml": true, ".yaml": true, ".png": true, ".svg": true,
	".jpg": true, ".gif": true, ".h": true, ".c": true, ".go": true, ".rs": true, ".toml": true, ".lock": true,
}

// MaybeExecutable is the Wants rule of the scanners that read compiled
// executables (Go build info, cargo-auditable): they see no content, so
// they accept broadly — files of the usual executable directories, files
// whose names have no extension or end in ".exe" — and reject the rest by
// their first bytes in Scan.
func MaybeExecutable(p string) bool {
	if p == "" || strings.HasSuffix(p, "/") {
		return false
	}
	for _, d := range skipDirs {
		if strings.HasPrefix(p, d) {
			return false
		}
	}
	base := path.Base(p)
	if notExecutable[strings.ToLower(path.Ext(base))] {
		return false
	}
	for _, d := range binDirs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	if strings.HasPrefix(p, "usr/local/") && strings.Contains(p, "/bin/") {
		return true
	}
	if strings.HasSuffix(base, ".exe") {
		return true
	}
	return !strings.Contains(base, ".")
}
