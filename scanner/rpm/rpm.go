// Package rpm finds the packages rpm installed, from the rpm database in any
// of its three backends: Berkeley DB (Packages, RHEL/CentOS 7 and 8, older
// SUSE), NDB (Packages.db, SUSE since 15 SP3) and SQLite (rpmdb.sqlite,
// Fedora 33+, RHEL 9, CBL-Mariner/Azure Linux), at var/lib/rpm,
// usr/lib/sysimage/rpm or usr/share/rpm.
//
// The database is copied to a temporary file (SQLite needs a path) and read
// by the readers of this package rather than by knqyf263/go-rpmdb: that
// library reads in goroutines where a panic on a damaged file cannot be
// recovered, can loop forever on a Berkeley DB overflow chain that meets a
// page of another type, and leaks its goroutine when it stops on an error.
// The tests check these readers against it and against rpm itself.
package rpm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Database file names, and the folders rpm keeps them in.
const (
	BerkeleyDB = "Packages"
	NDB        = "Packages.db"
	SQLite     = "rpmdb.sqlite"
)

var dirs = []string{"var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/"}

// MaxSize bounds one database. Full RHEL installs have Packages files of
// a few hundred MiB at most.
const MaxSize = 1 << 30

// maxWarnings keeps a damaged database from flooding the index report.
const maxWarnings = 20

// Scanner is the rpm package scanner. Its zero value is ready to use.
type Scanner struct {
	// TempDir is where databases are copied; os.TempDir() when empty.
	TempDir string
}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "rpm" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner.
func (*Scanner) Wants(path string) bool {
	for _, d := range dirs {
		if name, ok := strings.CutPrefix(path, d); ok {
			return name == BerkeleyDB || name == NDB || name == SQLite
		}
	}
	return false
}

// errTooLarge says a database is past MaxSize.
var errTooLarge = fmt.Errorf("larger than the %d bytes an rpm database may have", MaxSize)

// Scan implements scanner.Scanner.
func (s *Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	wrap := func(err error) error { return fmt.Errorf("rpm: %s: %w", f.Path, err) }
	skip := func(err error) (*scanner.Result, error) {
		// Not a database rpm wrote, or past the layer's disk budget: a
		// warning, and the rest of the layer is read.
		return &scanner.Result{Warnings: []string{fmt.Sprintf("rpm: %s: skipped: %v", f.Path, err)}}, nil
	}
	if f.Size > MaxSize {
		return skip(errTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap(err)
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	tmp, err := os.CreateTemp(s.TempDir, "rpmdb-*")
	if err != nil {
		return nil, wrap(err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	// The copy is the layer's disk: charged to its budget.
	size, err := io.Copy(tmp, f.Budget.Reader(limit.Reader(f.R, MaxSize)))
	switch {
	case errors.Is(err, limit.ErrTooLarge):
		return skip(errTooLarge)
	case errors.Is(err, scanner.ErrBudget):
		return skip(err)
	}
	if err != nil {
		return nil, wrap(err)
	}
	if size == 0 {
		// rpm leaves empty files behind (a Packages next to an
		// rpmdb.sqlite after a conversion); they hold nothing.
		return &scanner.Result{}, nil
	}
	pkgs, warns, err := read(ctx, tmp, size, f.Path)
	if err != nil {
		return nil, wrap(err)
	}
	return &scanner.Result{Packages: pkgs, Warnings: warns}, nil
}

// read parses the database copied to tmp. The backend is told by the
// content, not the name: images have carried a BerkeleyDB under a SQLite
// name after rebuilds. A panic in the readers (a bug this package's fuzzing
// has not found) becomes an error rather than taking the indexer down.
func read(ctx context.Context, tmp *os.File, size int64, path string) (pkgs []*vuln.Package, warns []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkgs, warns, err = nil, nil, fmt.Errorf("damaged database (%v)", r)
		}
	}()
	head := make([]byte, 512)
	n, err := tmp.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	head = head[:n]
	dropped := 0
	count := 0
	fn := func(blob []byte) error {
		count++
		if count%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		h, err := parseHeader(blob)
		if err != nil {
			if len(warns) < maxWarnings {
				warns = append(warns, fmt.Sprintf("rpm: %s: package header %d skipped: %v", path, count, err))
			} else {
				dropped++
			}
			return nil
		}
		if p := h.pkg(path); p != nil {
			pkgs = append(pkgs, p)
		}
		return nil
	}
	switch {
	case isSQLite(head):
		err = readSQLite(ctx, tmp.Name(), fn)
	case isNDB(head):
		err = readNDB(tmp, size, fn)
	case isBDB(head):
		err = readBDB(tmp, size, fn)
	default:
		return nil, nil, errors.New("not an rpm database: neither SQLite, NDB nor Berkeley DB hash")
	}
	if err != nil {
		return nil, nil, err
	}
	if count > 0 && len(pkgs) == 0 && len(warns) > 0 {
		return nil, nil, fmt.Errorf("none of its %d package headers could be read; first: %s", count, warns[0])
	}
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("rpm: %s: %d more package headers skipped", path, dropped))
	}
	return pkgs, warns, nil
}

// evr formats epoch:version-release as rpm's %{EVR} does, leaving out a zero
// or absent epoch.
func evr(epoch int64, ver, rel string) string {
	var b strings.Builder
	if epoch > 0 {
		b.WriteString(strconv.FormatInt(epoch, 10))
		b.WriteByte(':')
	}
	b.WriteString(ver)
	if rel != "" {
		b.WriteByte('-')
		b.WriteString(rel)
	}
	return b.String()
}

// pkg turns a header into a package; nil for the gpg-pubkey pseudo-packages
// that hold the keys rpm trusts.
func (h *header) pkg(path string) *vuln.Package {
	if h.name == "gpg-pubkey" {
		return nil
	}
	v := evr(h.epoch, h.version, h.release)
	p := &vuln.Package{
		Name:      h.name,
		Version:   v,
		Kind:      vuln.KindBinary,
		Arch:      h.arch,
		PackageDB: path,
		Ecosystem: "rpm",
		Module:    module(h.modularityLabel),
		Purl:      purl(h),
	}
	if name, ver, rel, ok := parseSourceRPM(h.sourceRPM); ok {
		p.Source = &vuln.Package{Name: name, Version: evr(h.epoch, ver, rel), Kind: vuln.KindSource}
	}
	return p
}

// module turns a modularity label (name:stream:version:context) into the
// name:stream that Red Hat's advisories key on.
func module(label string) string {
	if label == "" {
		return ""
	}
	parts := strings.SplitN(label, ":", 3)
	if len(parts) < 2 {
		return label
	}
	return parts[0] + ":" + parts[1]
}

// parseSourceRPM splits "openssl-1.1.1k-9.el8_7.src.rpm" into its name,
// version and release.
func parseSourceRPM(s string) (name, ver, rel string, ok bool) {
	s, ok = strings.CutSuffix(s, ".rpm")
	if !ok {
		return "", "", "", false
	}
	i := strings.LastIndexByte(s, '.') // .src, .nosrc
	if i < 0 {
		return "", "", "", false
	}
	s = s[:i]
	i = strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", "", "", false
	}
	s, rel = s[:i], s[i+1:]
	i = strings.LastIndexByte(s, '-')
	if i <= 0 || rel == "" || i == len(s)-1 {
		return "", "", "", false
	}
	return s[:i], s[i+1:], rel, true
}

// purl builds pkg:rpm/NAME@VERSION-RELEASE?arch=ARCH&epoch=N. The namespace
// (the vendor: redhat, fedora, opensuse, ...) is left out: the database does
// not say which distribution it belongs to, and a wrong vendor would be worse
// than none; the indexer, which reads os-release, is the place to add it.
func purl(h *header) string {
	m := map[string]string{}
	if h.arch != "" {
		m["arch"] = h.arch
	}
	if h.epoch > 0 {
		m["epoch"] = strconv.FormatInt(h.epoch, 10)
	}
	var q packageurl.Qualifiers
	if len(m) > 0 {
		q = packageurl.QualifiersFromMap(m)
	}
	v := evr(0, h.version, h.release)
	u := packageurl.NewPackageURL(packageurl.TypeRPM, "", h.name, v, q, "")
	return u.ToString()
}
