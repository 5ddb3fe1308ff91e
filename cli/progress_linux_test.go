//go:build linux

package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: the master to read what is written, and
// the slave, a real terminal, to write to.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the slave: %v", err)
	}
	return m, s
}

// TestProgressOnTerminal: with stderr a terminal, scan shows the layer it
// indexes with bytes and rate, redrawn in place; -q shows nothing of it.
func TestProgressOnTerminal(t *testing.T) {
	img := "docker-archive:" + abs(t, filepath.Join(root, "testdata/images/debian-11-nginx.tar"))
	// The feed over HTTP, as from a mirror: its download shows too.
	srv := httptest.NewServer(http.FileServer(http.Dir(abs(t, filepath.Join(root, "testdata/feeds")))))
	defer srv.Close()
	feedURL := srv.URL + "/debian-bullseye-nginx.json"
	for _, quiet := range []bool{false, true} {
		master, slave := openPTY(t)
		got := make(chan string)
		go func() {
			var b bytes.Buffer
			io.Copy(&b, master) // ends with EIO once the slave is closed
			got <- b.String()
		}()
		args := []string{"scan", "--db", filepath.Join(t.TempDir(), "clair.db"), "--feed", "debian=" + feedURL, img}
		if quiet {
			args = append([]string{"-q"}, args...)
		}
		var out bytes.Buffer
		code := run(context.Background(), args, &out, slave)
		slave.Close()
		errOut := <-got
		master.Close()
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		hasProgress := strings.Contains(errOut, "\r\x1b[Kindex ") && strings.Contains(errOut, "/s") &&
			strings.Contains(errOut, "\r\x1b[Kdownload 127.0.0.1:")
		if hasProgress == quiet {
			t.Errorf("quiet %v: stderr on a terminal %q", quiet, errOut)
		}
	}
}
