package scannertest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// lines is a small real scanner for the tests of the validator: a file of
// "name version" lines at etc/pkgs, one package each, read within maxSize.
// Its fields break it in the ways Validate must see.
type lines struct {
	noName      bool
	unclean     bool // Wants takes "/etc/pkgs" and "./etc/pkgs" too
	anyDepth    bool // Wants takes etc/pkgs under any folder
	silentCap   bool // stops at MaxPackages without a word
	budgetErr   bool // fails without the path when its budget is spent
	panicShort  bool // panics on a file without a final newline
	namelessErr bool // errors without the path
	unbounded   bool // reads all, whatever Size says
	badPurl     bool
	noPath      bool
}

const maxSize = 1 << 20

func (l *lines) Name() string {
	if l.noName {
		return ""
	}
	return "lines"
}
func (*lines) Version() string    { return "1" }
func (*lines) Kind() scanner.Kind { return scanner.KindPackage }
func (l *lines) Wants(p string) bool {
	if l.anyDepth {
		return p == "etc/pkgs" || strings.HasSuffix(p, "/etc/pkgs")
	}
	if l.unclean {
		return strings.TrimPrefix(strings.TrimPrefix(p, "."), "/") == "etc/pkgs"
	}
	return p == "etc/pkgs"
}

func (l *lines) Scan(_ context.Context, f scanner.File) (*scanner.Result, error) {
	if !l.unbounded && f.Size > maxSize {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("lines: %s: skipped: %d bytes", f.Path, f.Size)}}, nil
	}
	r := f.R
	if !l.unbounded {
		r = io.LimitReader(r, maxSize)
	}
	if f.Budget != nil {
		r = f.Budget.Reader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		if l.budgetErr {
			return nil, err
		}
		return nil, fmt.Errorf("lines: %s: %w", f.Path, err)
	}
	if l.panicShort && len(b) > 0 && b[len(b)-1] != '\n' {
		panic("short file")
	}
	res := &scanner.Result{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		name, ver, ok := strings.Cut(sc.Text(), " ")
		if !ok || name == "" || ver == "" {
			if l.namelessErr {
				return nil, errors.New("lines: malformed line")
			}
			return nil, fmt.Errorf("lines: %s: malformed line %q", f.Path, sc.Text())
		}
		p := &vuln.Package{Name: name, Version: ver, Ecosystem: vuln.EcosystemNPM, Purl: "pkg:npm/" + name + "@" + ver, Path: f.Path}
		if l.badPurl {
			p.Purl = "npm:" + name
		}
		if l.noPath {
			p.Path = ""
		}
		res.Packages = append(res.Packages, p)
		if f.MaxPackages > 0 && len(res.Packages) == f.MaxPackages {
			if !l.silentCap {
				res.Warnings = append(res.Warnings, fmt.Sprintf("lines: %s: stopped at %d packages", f.Path, f.MaxPackages))
			}
			break
		}
	}
	return res, nil
}

var sample = Case{Path: "etc/pkgs", Data: []byte("left-pad 1.3.0\nlodash 4.17.21\n")}

// TestValidateSound: a scanner that keeps the contract passes; so does one
// that wants its file at any depth (and so under "/" too), and one whose
// bound is not tried, with the reason.
func TestValidateSound(t *testing.T) {
	Validate(t, &lines{}, Options{MaxSize: maxSize}, sample)
	Validate(t, &lines{anyDepth: true}, Options{MaxSize: maxSize}, sample)
	Validate(t, &lines{unbounded: true}, Options{MaxSize: maxSize, SkipBound: "spools to disk"}, sample)
}

// TestValidateFinds runs Validate on broken scanners in a child process
// (a failing *testing.T cannot be caught in this one) and checks that
// each breakage is reported.
func TestValidateFinds(t *testing.T) {
	if b := os.Getenv("SCANNERTEST_BROKEN"); b != "" {
		l := &lines{}
		switch b {
		case "wants":
			l.unclean = true
		case "panic":
			l.panicShort = true
		case "nameless":
			l.namelessErr = true
		case "unbounded":
			l.unbounded = true
		case "purl":
			l.badPurl = true
		case "path":
			l.noPath = true
		case "name":
			l.noName = true
		case "cap":
			l.silentCap = true
		case "budget":
			l.budgetErr = true
		}
		Validate(t, l, Options{MaxSize: maxSize}, sample)
		return
	}
	for broken, want := range map[string]string{
		"wants":     `Wants("/etc/pkgs") = true for a path that is not clean and relative`,
		"panic":     "of one byte (1 bytes) panics: short file",
		"nameless":  `error "lines: malformed line" does not name the file`,
		"unbounded": "of 1310721 bytes read 1310721, past its bound of 1048576",
		"purl":      `purl "npm:left-pad"`,
		"path":      `Path "" is not the file`,
		"name":      "both must be set",
		"cap":       "with MaxPackages 1: 1 of 2 packages and no warning naming the file",
		"budget":    `over the budget: error "over the layer budget of 1 B: budget exhausted" does not name the file`,
	} {
		t.Run(broken, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestValidateFinds$")
			cmd.Env = append(os.Environ(), "SCANNERTEST_BROKEN="+broken)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("Validate passed a scanner broken by %s:\n%s", broken, out)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("Validate of a scanner broken by %s does not say %q:\n%s", broken, want, out)
			}
		})
	}
}
