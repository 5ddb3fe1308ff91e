// Package cli is clairctl: it scans container images for known
// vulnerabilities and keeps the vulnerability feeds up to date, on an
// embedded store by default. cmd/clairctl is a thin main over it, so that a
// custom binary with its own scanners and feeds is a main.go of three
// imports and one call:
//
//	import (
//		"github.com/openclair/clair/cli"
//		_ "github.com/openclair/clair/plugins" // what the official binaries ship
//		_ "example.com/you/yourscanner"        // registers itself in init()
//	)
//
//	func main() { cli.Main() }
//
// The CLI uses whatever scanners, feeds and version schemes are registered
// when it runs (see package plugins).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/openclair/clair/gate"
)

// Main runs clairctl with os.Args and exits with its status; it stops
// cleanly on SIGINT and SIGTERM.
func Main() {
	if gcTuned(os.Args[1:]) {
		tuneGC(os.Getenv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// gcPercent and gcLimit are the garbage collector settings of the commands
// that match and render a report (gcCommands), where GOGC and GOMEMLIMIT
// leave them unset. Such a run is short, and its heap is mostly what it
// reports, alive to the end: at Go's default (100) a warm scan of a large
// image spent a sixth of its time collecting that heap over and over. At
// 800 the 700-package image's warm scan (27 MB allocated) runs no
// collection at all: median 39.5 ms and 42 ms of CPU, against 42.2 and 48
// at 400, for a peak RSS of 69 MB instead of 65. The limit keeps the larger
// heap in check where the live data is large. update and import-updaters
// keep Go's default: they hold whole feeds, and at 400 a Debian update
// peaked at 395 MB instead of 270 for no gain in time.
const (
	gcPercent = 800
	gcLimit   = 1 << 30
)

// gcCommands are the commands tuneGC is for.
var gcCommands = map[string]bool{"scan": true, "diff": true, "sbom": true, "report": true}

// gcTuned is true when args (without the program name) run one of
// gcCommands.
func gcTuned(args []string) bool {
	c, _, err := newRoot(io.Discard, io.Discard).Find(args)
	return err == nil && gcCommands[c.Name()]
}

// tuneGC applies gcPercent and gcLimit, each unless its variable is set.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcLimit)
	}
}

// Run is Main without the process: it runs clairctl with args (without the
// program name) and returns the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRoot(stdout, stderr)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		// One line naming the cause: scripts grep it, people read it.
		fmt.Fprintln(stderr, "clairctl: "+strings.ReplaceAll(err.Error(), "\n", "; "))
		var e exitError
		if errors.As(err, &e) {
			return e.code
		}
		// 1 is the gate's "findings": an error is never mistaken for it.
		return gate.ExitError
	}
	return 0
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
