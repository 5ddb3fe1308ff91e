// Package sharedtest locates the large real test data that lives beside the
// repository, in ../shared/testdata, rather than in it. Tests that need it
// skip where it is absent; CI has it.
package sharedtest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Env names an environment variable that, when set, is the shared testdata
// directory itself (as tools/loadtest/run.sh reads it).
const Env = "CLAIR_SHARED"

// Dir returns the absolute path of the shared testdata directory: $CLAIR_SHARED
// when set, else <repository root>/../shared/testdata. The root is found from
// this file's own path, so Dir is the same whichever package's test calls it;
// where that path is not absolute (a -trimpath build), it is the nearest
// directory above the working directory that holds go.mod.
func Dir() string {
	if d := os.Getenv(Env); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			return abs
		}
		return d
	}
	return filepath.Join(root(), "..", "shared", "testdata")
}

// Path returns Dir()/rel, or skips the test when that does not exist.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(), filepath.FromSlash(rel))
	_, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent: these tests need ../shared/testdata (CI has it; or set %s)", p, Env)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// root returns the repository root.
func root() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		// file is <root>/internal/sharedtest/sharedtest.go.
		return filepath.Dir(filepath.Dir(filepath.Dir(file)))
	}
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			return dir
		}
		d = up
	}
}
