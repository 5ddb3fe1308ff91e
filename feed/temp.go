package feed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TempPrefix starts the name of every temporary file and folder the feeds
// and the updater make ("clair-feed-<pid>-<kind>-…"), so that CleanTemp can
// tell its own leftovers from anyone else's.
const TempPrefix = "clair-feed-"

// processStart is when this process began, as near as a package variable
// tells: leftovers are older than it.
var processStart = time.Now()

// CreateTemp creates a temporary file in dir ("" = os.TempDir()) named for
// this process and kind ("debian", "osv-zip").
func CreateTemp(dir, kind string) (*os.File, error) {
	return os.CreateTemp(dir, tempPattern(kind))
}

// MkdirTemp creates a temporary folder in dir ("" = os.TempDir()) named for
// this process and kind.
func MkdirTemp(dir, kind string) (string, error) {
	return os.MkdirTemp(dir, tempPattern(kind))
}

func tempPattern(kind string) string {
	return TempPrefix + strconv.Itoa(os.Getpid()) + "-" + kind + "-*"
}

// CleanTemp removes from dir ("" = os.TempDir()) what a killed update left:
// entries named with TempPrefix, older than this process, and made by a
// process that no longer runs. Entries of a version that did not name its
// pid ("clair-feed-debian-…", and the "clair-osv-…", "clair-oval-…",
// "clair-amazon-…" folders of the osv, oval and amazon feeds) are removed
// once a day old. A live instance's files, and this process's, are left
// alone. It returns what it removed.
func CleanTemp(dir string) ([]string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("feed: cleaning %s: %w", dir, err)
	}
	var removed []string
	var errs []error
	for _, de := range des {
		// Names without a pid cannot tell a live process's file from a
		// leftover: only a day's age makes them one.
		before := processStart.Add(-legacyAge)
		rest, ok := strings.CutPrefix(de.Name(), TempPrefix)
		if !ok {
			if !legacy(de.Name()) {
				continue
			}
		} else if pidStr, _, ok := strings.Cut(rest, "-"); ok {
			pid, err := strconv.Atoi(pidStr)
			if err == nil && (pid == os.Getpid() || alive(pid)) {
				continue
			}
			if err == nil {
				before = processStart
			}
		}
		fi, err := de.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if !fi.ModTime().Before(before) {
			continue
		}
		p := filepath.Join(dir, de.Name())
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("feed: cleaning %s: %w", dir, err)
	}
	return removed, nil
}

// legacyAge is how old a temporary file named without a pid must be to be
// taken for a leftover: no update runs for a day.
const legacyAge = 24 * time.Hour

// legacy reports whether name is a temporary folder of a version that named
// them per feed.
func legacy(name string) bool {
	for _, p := range []string{"clair-osv-", "clair-oval-", "clair-amazon-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
