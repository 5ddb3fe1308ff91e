package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	t.Setenv(Env, "")
	d := Dir()
	if !filepath.IsAbs(d) || filepath.Base(d) != "testdata" || filepath.Base(filepath.Dir(d)) != "shared" {
		t.Fatalf("Dir() = %q, want an absolute .../shared/testdata", d)
	}
	// The repository root is beside shared, wherever the test runs from.
	if _, err := os.Stat(filepath.Join(d, "..", "..", filepath.Base(root()), "go.mod")); err != nil {
		t.Errorf("no go.mod in the root beside %s: %v", d, err)
	}
}

func TestEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(Env, dir)
	if got := Dir(); got != dir {
		t.Errorf("Dir() = %q, want $%s %q", got, Env, dir)
	}
	if got := Path(t, "x"); got != filepath.Join(dir, "x") {
		t.Errorf("Path = %q", got)
	}
}

func TestPathSkips(t *testing.T) {
	t.Setenv(Env, t.TempDir())
	var skipped bool
	t.Run("absent", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Path(t, "no/such/file")
		t.Error("Path returned for an absent file")
	})
	if !skipped {
		t.Error("Path did not skip")
	}
}
