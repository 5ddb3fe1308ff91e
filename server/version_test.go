package server

import (
	"bytes"
	"context"
	"encoding/json"
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
	if args := os.Getenv("CLAIR_TEST_MAIN"); args != "" {
		os.Args = append([]string{"clair"}, strings.Fields(args)...)
		Main()
		os.Exit(0)
	}
	main := func(args string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=TestVersionAndHelp$")
		cmd.Env = append(os.Environ(), "CLAIR_TEST_MAIN="+args)
		var e bytes.Buffer
		cmd.Stderr = &e
		err := cmd.Run()
		return e.String(), err
	}
	if out, err := main("-h"); err != nil {
		t.Errorf("clair -h: %v\n%s", err, out)
	}
	// Stopping on an error is one slog JSON line, like every other line.
	out, err := main("-mode nope")
	var line struct{ Level, Msg, Error string }
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || json.Unmarshal([]byte(out), &line) != nil || line.Level != "ERROR" || line.Msg != "clair stopped" ||
		!strings.Contains(line.Error, `-mode "nope"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("clair -mode nope: %v, stderr %q", err, out)
	}
}
