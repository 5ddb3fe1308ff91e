// Command boundsprobe measures what `clairctl scan` costs on the inputs of
// issue 11 (indexing under hostile input): peak RSS, peak bytes in its
// temporary folder, the size of the stored report, the warnings. It builds
// each input as an OCI layout from generators (package internal/hostile),
// so a 500 MiB file costs its gzip on disk, and runs the given clairctl
// binary on it in a child process, one at a time.
//
//	go run ./tools/boundsprobe -clairctl /tmp/clairctl [-work DIR] [-cases zeros,apk]
//	go run ./tools/boundsprobe -clair /tmp/clair -cases zeros-x4,jar-x4
//
// Cases:
//
//	zeros      bin/x, 500 MiB of zeros (wanted by the Go and Rust scanners)
//	zeros-x4   four such layers
//	elf        bin/x, an ELF header on 500 MiB of zeros (read by both)
//	jar        app/app.jar, 2 GiB of zeros
//	jar-x4     four such layers
//	bombs      ten nested zip bombs (1e9 bytes each) in one layer
//	apk        an apk installed database of 1,000,000 records
//	usr        the host's /usr/share and /usr/bin, one layer each
//	usr-x2     the same image twice over (four layers)
//	loops      Alpine 3.20 minirootfs and a layer of symlink loops
//	files      1,000,000 empty files in bin/ (candidate executables)
//
// It needs no network: scans run with --skip-update (exit status 0 or the
// "no feed data" error, after the index is stored, both fine here).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openclair/clair/internal/hostile"
	"github.com/openclair/clair/internal/sharedtest"
)

func main() {
	clairctl := flag.String("clairctl", "", "the clairctl binary to measure")
	clair := flag.String("clair", "", "the clair server binary to measure instead: one POST /indexer/api/v1/index_report per case (exit is the HTTP status)")
	work := flag.String("work", "", "folder for the inputs and databases (default: a new temporary folder, removed at the end)")
	cases := flag.String("cases", "zeros,zeros-x4,elf,jar,jar-x4,bombs,apk,usr,usr-x2,loops,files", "comma-separated cases")
	flag.Parse()
	if (*clairctl == "") == (*clair == "") {
		fmt.Fprintln(os.Stderr, "boundsprobe: one of -clairctl and -clair is required")
		os.Exit(2)
	}
	dir := *work
	if dir == "" {
		d, err := os.MkdirTemp("", "boundsprobe-*")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Printf("%-9s %5s %10s %10s %10s %10s %8s  %s\n", "case", "exit", "peak RSS", "peak temp", "written", "stored DB", "seconds", "warnings")
	for _, c := range strings.Split(*cases, ",") {
		layers, err := build(c)
		if err != nil {
			fail(fmt.Errorf("%s: %w", c, err))
		}
		layout := filepath.Join(dir, c+".oci")
		os.RemoveAll(layout)
		if err := hostile.WriteLayout(layout, layers...); err != nil {
			fail(fmt.Errorf("%s: %w", c, err))
		}
		layers = nil
		debug.FreeOSMemory()
		var m *result
		if *clair != "" {
			m, err = measureServer(*clair, dir, c, layout)
		} else {
			m, err = measure(*clairctl, dir, c, layout)
		}
		if err != nil {
			fail(fmt.Errorf("%s: %w", c, err))
		}
		fmt.Printf("%-9s %5d %6d MiB %6d MiB %6d MiB %6d MiB %8.1f  %d: %s\n", c, m.exit, m.rss>>20, m.temp>>20, m.written>>20, m.db>>20, m.secs, len(m.warnings), clip(strings.Join(m.warnings, " | ")))
		os.RemoveAll(layout)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "boundsprobe:", err)
	os.Exit(1)
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// tagged makes copies of one layer distinct (a different digest each).
func tagged(ents []hostile.Entry, i int) []hostile.Entry {
	return append(append([]hostile.Entry(nil), ents...), hostile.Bytes(fmt.Sprintf("etc/layer%d", i), []byte("x")))
}

func times(n int, ents []hostile.Entry) [][]hostile.Entry {
	var out [][]hostile.Entry
	for i := range n {
		out = append(out, tagged(ents, i))
	}
	return out
}

func build(c string) ([][]hostile.Entry, error) {
	switch c {
	case "zeros":
		return times(1, []hostile.Entry{hostile.Zeros("bin/x", 500<<20)}), nil
	case "zeros-x4":
		return times(4, []hostile.Entry{hostile.Zeros("bin/x", 500<<20)}), nil
	case "elf":
		return times(1, []hostile.Entry{hostile.ELFZeros("bin/x", 500<<20)}), nil
	case "jar":
		return times(1, []hostile.Entry{hostile.Zeros("app/app.jar", 2<<30)}), nil
	case "jar-x4":
		return times(4, []hostile.Entry{hostile.Zeros("app/app.jar", 2<<30)}), nil
	case "bombs":
		bomb, err := hostile.NestedBomb(1e9)
		if err != nil {
			return nil, err
		}
		var ents []hostile.Entry
		for i := range 10 {
			ents = append(ents, hostile.Bytes(fmt.Sprintf("app/lib/bomb%d.jar", i), bomb))
		}
		return times(1, ents), nil
	case "apk":
		return times(1, []hostile.Entry{hostile.ApkInstalled(1_000_000)}), nil
	case "files":
		ents := make([]hostile.Entry, 1_000_000)
		for i := range ents {
			ents[i] = hostile.Bytes(fmt.Sprintf("bin/f%07d", i), nil)
		}
		return times(1, ents), nil
	case "usr", "usr-x2":
		share, err := hostile.HostDir("/usr/share")
		if err != nil {
			return nil, err
		}
		bin, err := hostile.HostDir("/usr/bin")
		if err != nil {
			return nil, err
		}
		out := [][]hostile.Entry{tagged(share, 0), tagged(bin, 1)}
		if c == "usr-x2" {
			out = append(out, tagged(share, 2), tagged(bin, 3))
		}
		return out, nil
	case "loops":
		p := filepath.Join(sharedtest.Dir(), "pkgdb", "layers", "alpine-minirootfs-3.20.3-x86_64.tar.gz")
		b, err := gunzip(p)
		if err != nil {
			return nil, err
		}
		alpine, err := tarEntries(b)
		if err != nil {
			return nil, err
		}
		return [][]hostile.Entry{alpine, {
			hostile.Symlink("opt/x/a", "b"), hostile.Symlink("opt/x/b", "a"),
			hostile.Symlink("usr/local/bin/tool", "tool"),
			hostile.Symlink("node_modules/.bin/a", "b"), hostile.Symlink("node_modules/.bin/b", "a"),
		}}, nil
	}
	return nil, fmt.Errorf("no case %q", c)
}

type result struct {
	exit          int
	rss, temp, db int64
	written       int64 // bytes the child wrote (wchar), sampled
	secs          float64
	warnings      []string
}

// measure runs clairctl scan on the layout with its own database and
// temporary folder, polling the folder's size for its peak.
func measure(bin, dir, c, layout string) (*result, error) {
	tmp := filepath.Join(dir, c+".tmp")
	db := filepath.Join(dir, c+".db")
	os.RemoveAll(tmp)
	os.Remove(db)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	defer os.Remove(db)
	cmd := exec.Command(bin, "--db", db, "scan", "--skip-update", "--format", "json", "oci:"+layout)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop, peak, written, hwm := poll(tmp, cmd.Process.Pid)
	err := cmd.Wait()
	stop()
	r := &result{secs: time.Since(start).Seconds(), temp: peak.Load(), written: written.Load()}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return nil, err
		}
	}
	r.exit = cmd.ProcessState.ExitCode()
	// VmHWM sampled, not the rusage's Maxrss: Linux carries the forking
	// process's peak over exec into the child's Maxrss, and this process
	// may have held a large layer's entries.
	r.rss = hwm.Load()
	if st, err := os.Stat(db); err == nil {
		r.db = st.Size()
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if w, ok := strings.CutPrefix(l, "warning: "); ok {
			r.warnings = append(r.warnings, w)
		} else if strings.HasPrefix(l, "Error") || strings.HasPrefix(l, "clairctl:") {
			r.warnings = append(r.warnings, "ERROR "+l)
		}
	}
	return r, nil
}

// poll samples the size of dir and what process pid has written until
// stop is called.
func poll(dir string, pid int) (stop func(), peak, written, hwm *atomic.Int64) {
	peak, written, hwm = new(atomic.Int64), new(atomic.Int64), new(atomic.Int64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if n := du(dir); n > peak.Load() {
				peak.Store(n)
			}
			if n := wchar(pid); n > written.Load() {
				written.Store(n)
			}
			if n := vmHWM(pid); n > hwm.Load() {
				hwm.Store(n)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }, peak, written, hwm
}

// wchar is what the process has written so far (/proc/PID/io), or 0.
func wchar(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "wchar: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// du is the bytes of the files under dir (allocated, so a sparse file
// counts what it holds).
func du(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

func gunzip(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// tarEntries is a tar's files, folders and symlinks as entries.
func tarEntries(b []byte) ([]hostile.Entry, error) {
	var out []hostile.Entry
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			out = append(out, hostile.Entry{Name: h.Name, Dir: true})
		case tar.TypeSymlink:
			out = append(out, hostile.Symlink(h.Name, h.Linkname))
		case tar.TypeReg:
			body, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			out = append(out, hostile.Bytes(h.Name, body))
		}
	}
}
