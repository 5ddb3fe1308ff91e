package server

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestVersionAndHelp: -version prints the version and succeeds; -h prints
// the usage, and the binary exits 0 on it.
func TestVersionAndHelp(t *testing.T) {
	var e bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, &e, nil); err != nil || !strings.HasPrefix(e.String(), "clair ") {
		t.Errorf("-version: %v, %q", err, e.String())
	}
	e.Reset()
	if err := run(context.Background(), []string{"-h"}, &e, nil); !errors.Is(err, flag.ErrHelp) || !strings.Contains(e.String(), "-config") {
		t.Errorf("-h: %v, %q", err, e.String())
	}
	if os.Getenv("CLAIR_TEST_MAIN") == "1" {
		os.Args = []string{"clair", "-h"}
		Main()
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=TestVersionAndHelp$")
	cmd.Env = append(os.Environ(), "CLAIR_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("clair -h: %v\n%s", err, out)
	}
}
