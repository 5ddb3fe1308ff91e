// Package distro finds the distribution release an image is built on. It
// reads os-release and the older files some images carry instead of it or
// beside it (lsb-release, debian_version, alpine-release), one file per Scan,
// and Combine merges what they said into one vuln.Distribution.
package distro

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// The files the scanner reads, in the order Combine trusts them: os-release is
// the standard and says the most, the others fill what it leaves out.
//
// The RPM distributions' one-line release files come before redhat-release,
// which every RHEL rebuild also ships: Oracle Linux's says "Red Hat
// Enterprise Linux Server release 7.9", so oracle-release must win over it
// (and os-release, when present, over both). system-release is Amazon
// Linux's (and a link to the others elsewhere).
const (
	EtcOSRelease    = "etc/os-release"
	UsrLibOSRelease = "usr/lib/os-release"
	LSBRelease      = "etc/lsb-release"
	OracleRelease   = "etc/oracle-release"
	CentOSRelease   = "etc/centos-release"
	AlmaRelease     = "etc/almalinux-release"
	RockyRelease    = "etc/rocky-release"
	FedoraRelease   = "etc/fedora-release"
	RedHatRelease   = "etc/redhat-release"
	SystemRelease   = "etc/system-release"
	DebianVersion   = "etc/debian_version"
	AlpineRelease   = "etc/alpine-release"
)

var priority = [...]string{
	EtcOSRelease, UsrLibOSRelease, LSBRelease,
	OracleRelease, CentOSRelease, AlmaRelease, RockyRelease, FedoraRelease, RedHatRelease, SystemRelease,
	DebianVersion, AlpineRelease,
}

// MaxRead bounds what Scan reads of one file. Every real file of this kind is
// under 1 KiB. A larger one is truncated at the last full line within the
// bound, with a warning, rather than failing the layer: these files only
// inform the distribution, and the fields that matter come first in every
// real example, so failing the whole image index over an oversized
// os-release would cost more than it protects.
const MaxRead = 64 << 10

// maxWarnings keeps a file of garbage from turning into thousands of
// warnings in the index report.
const maxWarnings = 10

// Scanner is the distribution scanner. Its zero value is ready to use.
type Scanner struct{}

var (
	_ scanner.Scanner  = (*Scanner)(nil)
	_ scanner.Combiner = (*Scanner)(nil)
)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "distro" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "2" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindDistribution }

// Wants implements scanner.Scanner.
func (*Scanner) Wants(path string) bool {
	for _, p := range priority {
		if path == p {
			return true
		}
	}
	return false
}

// Scan implements scanner.Scanner. It returns a partial distribution, or none
// when the file says nothing usable; a malformed file is a warning, not an
// error, because it must not fail the index of an image whose packages can
// still be read.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("distro: %s: %w", f.Path, err)
	}
	b, truncated, err := readBounded(f.R, MaxRead)
	if err != nil {
		return nil, fmt.Errorf("distro: %s: %w", f.Path, err)
	}
	var (
		d     *vuln.Distribution
		warns []string
	)
	switch f.Path {
	case EtcOSRelease, UsrLibOSRelease:
		d, warns = fromOSRelease(b)
	case LSBRelease:
		d, warns = fromLSBRelease(b)
	case DebianVersion:
		d, warns = fromDebianVersion(b)
	case AlpineRelease:
		d, warns = fromAlpineRelease(b)
	case OracleRelease, CentOSRelease, AlmaRelease, RockyRelease, FedoraRelease, RedHatRelease, SystemRelease:
		d, warns = fromRPMRelease(b)
	default:
		return nil, fmt.Errorf("distro: %s: not a file this scanner reads", f.Path)
	}
	res := &scanner.Result{Distribution: d}
	if truncated {
		res.Warnings = append(res.Warnings, fmt.Sprintf("distro: %s: larger than %d bytes, read only the first %d", f.Path, MaxRead, MaxRead))
	}
	for _, w := range warns {
		res.Warnings = append(res.Warnings, "distro: "+f.Path+": "+w)
	}
	return res, nil
}

// Combine implements scanner.Combiner. The highest-priority file that named a
// distribution is the base; lower ones only fill its empty fields, and only
// when they name the same distribution (or none): Ubuntu ships Debian's
// debian_version ("bullseye/sid"), which must not turn Ubuntu into Debian.
func (*Scanner) Combine(results map[string]*scanner.Result) *scanner.Result {
	var (
		out   *vuln.Distribution
		warns []string
	)
	for _, p := range priority {
		r := results[p]
		if r == nil {
			continue
		}
		warns = append(warns, r.Warnings...)
		d := r.Distribution
		if d == nil {
			continue
		}
		if out == nil {
			c := *d
			out = &c
			continue
		}
		if out.DID != "" && d.DID != "" && !strings.EqualFold(out.DID, d.DID) {
			continue
		}
		fill(out, d)
	}
	if out == nil && len(warns) == 0 {
		return nil
	}
	if out != nil {
		// The indexer assigns ids; one carried over from a per-file result
		// would collide across images.
		out.ID = ""
		normalize(out)
	}
	return &scanner.Result{Distribution: out, Warnings: warns}
}

func fill(dst, src *vuln.Distribution) {
	set := func(d *string, s string) {
		if *d == "" {
			*d = s
		}
	}
	set(&dst.DID, src.DID)
	set(&dst.Name, src.Name)
	set(&dst.Version, src.Version)
	set(&dst.VersionCodeName, src.VersionCodeName)
	set(&dst.VersionID, src.VersionID)
	set(&dst.Arch, src.Arch)
	set(&dst.CPE, src.CPE)
	set(&dst.PrettyName, src.PrettyName)
}

// readBounded reads at most limit bytes. When the content goes on, it cuts at
// the last newline so that no half line is parsed as a whole one.
func readBounded(r io.Reader, limit int) ([]byte, bool, error) {
	if r == nil {
		return nil, false, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	if len(b) <= limit {
		return b, false, nil
	}
	b = b[:limit]
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	return b, true, nil
}

func fromOSRelease(b []byte) (*vuln.Distribution, []string) {
	kv, warns := ParseOSRelease(b)
	d := &vuln.Distribution{
		DID:             kv["ID"],
		Name:            kv["NAME"],
		Version:         kv["VERSION"],
		VersionID:       kv["VERSION_ID"],
		VersionCodeName: kv["VERSION_CODENAME"],
		PrettyName:      kv["PRETTY_NAME"],
		CPE:             kv["CPE_NAME"],
	}
	if d.VersionCodeName == "" {
		// Ubuntu before 17.10 has only this one.
		d.VersionCodeName = kv["UBUNTU_CODENAME"]
	}
	if *d == (vuln.Distribution{}) {
		return nil, warns
	}
	return d, warns
}

func fromLSBRelease(b []byte) (*vuln.Distribution, []string) {
	kv, warns := ParseOSRelease(b)
	d := &vuln.Distribution{
		// lsb_release prints "Ubuntu"; os-release and the feeds say "ubuntu".
		DID:             strings.ToLower(kv["DISTRIB_ID"]),
		Name:            kv["DISTRIB_ID"],
		VersionID:       kv["DISTRIB_RELEASE"],
		VersionCodeName: kv["DISTRIB_CODENAME"],
		PrettyName:      kv["DISTRIB_DESCRIPTION"],
	}
	if *d == (vuln.Distribution{}) {
		return nil, warns
	}
	return d, warns
}

var (
	debianNumber   = regexp.MustCompile(`^([0-9]+)(\.[0-9]+)*$`)
	debianCodename = regexp.MustCompile(`^([a-z][a-z0-9-]*)(/sid)?$`)
	alpineVersion  = regexp.MustCompile(`^[0-9][0-9A-Za-z._+~-]*$`)
)

// firstLine is the trimmed first line: these files hold one line, and a
// second one is not something any release wrote.
func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// fromDebianVersion reads a point release ("12.5": release 12) or, on
// testing and unstable, the next release's codename ("bookworm/sid").
func fromDebianVersion(b []byte) (*vuln.Distribution, []string) {
	s := firstLine(b)
	if s == "" {
		return nil, nil
	}
	if m := debianNumber.FindStringSubmatch(s); m != nil {
		return &vuln.Distribution{DID: "debian", VersionID: m[1], Version: s}, nil
	}
	if m := debianCodename.FindStringSubmatch(s); m != nil {
		return &vuln.Distribution{DID: "debian", VersionCodeName: m[1], Version: s}, nil
	}
	return nil, []string{fmt.Sprintf("line 1: %q is neither a release number nor a codename", scanner.Clip(s))}
}

func fromAlpineRelease(b []byte) (*vuln.Distribution, []string) {
	s := firstLine(b)
	if s == "" {
		return nil, nil
	}
	if !alpineVersion.MatchString(s) {
		return nil, []string{fmt.Sprintf("line 1: %q is not a release number", scanner.Clip(s))}
	}
	return &vuln.Distribution{DID: "alpine", VersionID: s}, nil
}

// clip keeps a quoted piece of a malformed file short in a warning.

// rpmRelease reads the first line of redhat-release and its kin: "Red Hat
// Enterprise Linux Server release 7.9 (Maipo)", "CentOS Linux release
// 7.9.2009 (Core)", "Oracle Linux Server release 8.6", "Amazon Linux release
// 2 (Karoo)", "Amazon Linux AMI release 2018.03".
var rpmRelease = regexp.MustCompile(`^(.+?) release ([0-9][0-9.]*)\b`)

// rpmIDs maps the product name of a release file to the os-release ID the
// same system would carry, longest prefix first.
var rpmIDs = []struct{ prefix, id string }{
	{"Red Hat Enterprise Linux", "rhel"},
	// trivy's RHEL 6 fixture reads "Red Hat Linux release 6.2 (Zoot)";
	// nothing else says Red Hat without being RHEL or a rebuild of it.
	{"Red Hat Linux", "rhel"},
	{"CentOS", "centos"},
	{"Oracle Linux", "ol"},
	{"Amazon Linux", "amzn"},
	{"AlmaLinux", "almalinux"},
	{"Rocky Linux", "rocky"},
	{"Fedora", "fedora"},
}

func fromRPMRelease(b []byte) (*vuln.Distribution, []string) {
	s := firstLine(b)
	if s == "" {
		return nil, nil
	}
	m := rpmRelease.FindStringSubmatch(s)
	if m == nil {
		return nil, []string{fmt.Sprintf("line 1: %q is not \"NAME release VERSION\"", scanner.Clip(s))}
	}
	name, ver := strings.TrimSpace(m[1]), strings.TrimSuffix(m[2], ".")
	for _, r := range rpmIDs {
		if !strings.HasPrefix(name, r.prefix) {
			continue
		}
		if r.id == "amzn" && !strings.Contains(name, "AMI") {
			// Amazon Linux 2 says "2"; AL2023 says "2023.3.20240131",
			// whose os-release VERSION_ID is "2023".
			if i := strings.IndexByte(ver, '.'); i > 0 {
				ver = ver[:i]
			}
		}
		return &vuln.Distribution{DID: r.id, Name: name, VersionID: ver, Version: ver, PrettyName: s}, nil
	}
	// A release file of a distribution no feed covers: keep what it says.
	return &vuln.Distribution{Name: name, VersionID: ver, PrettyName: s}, nil
}

// normalize makes a few os-release spellings agree with the namespaces the
// feeds use (vuln.Namespace).
func normalize(d *vuln.Distribution) {
	// openSUSE Leap 42.x and earlier 15 betas said ID=opensuse.
	if strings.EqualFold(d.DID, "opensuse") && strings.HasPrefix(d.Name, "openSUSE Leap") {
		d.DID = "opensuse-leap"
	}
	// Leap's advisories are per minor release ("15.2"); respins carry a
	// third component ("15.2.1").
	if d.DID == "opensuse-leap" {
		if parts := strings.SplitN(d.VersionID, ".", 3); len(parts) == 3 {
			d.VersionID = parts[0] + "." + parts[1]
		}
	}
}
