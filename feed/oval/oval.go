// Package oval reads OVAL definitions documents (the XML the RPM
// distributions publish their advisories in) and serves them as four feeds:
//
//	oracle   Oracle Linux ELSA      https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2
//	suse     SUSE and openSUSE Leap https://ftp.suse.com/pub/projects/security/oval/
//	photon   VMware Photon OS       https://packages.vmware.com/photon/photon_oval_definitions/
//	mariner  CBL-Mariner, Azure     https://raw.githubusercontent.com/microsoft/AzureLinuxVulnerabilityData/main/
//	         Linux
//
// A feed's URL is either one document (a file URL: the document is the whole
// feed) or a directory, under which the feed fetches its list of documents
// (Distro files); documents that are absent (404) are skipped. Documents are
// kept as served (plain, gzip or bzip2) in a tar snapshot named by their
// file names, which Mariner's namespaces come from.
//
// Reading (see reader.go and resolve.go): each document is read twice,
// first for its tests, objects and states, then one definition at a time.
// A definition's criteria become statements "in release R, on
// architectures A, package P is affected before version V", and each
// statement becomes one advisory per vulnerability the definition names:
//
//   - Namespace: from the release test's comment ("Oracle Linux 8 is
//     installed" → ol:8, "SUSE Linux Enterprise Server 15 SP5 is installed"
//     → sles:15.5, "openSUSE Leap 15.5 is installed" → opensuse-leap:15.5,
//     "Photon OS 3 is installed" → photon:3.0); Mariner and Azure Linux
//     definitions test no release, so the document's file name says it
//     (cbl-mariner-2.0-oval.xml → mariner:2.0, azurelinux-3.0-oval.xml →
//     azurelinux:3.0).
//   - Package: the rpminfo_object name, as the document names it: binary
//     packages for Oracle, SUSE and Photon, source packages for Mariner and
//     Azure Linux (Microsoft's documents name the spec, "Package glibc").
//   - Name: each CVE of the definition (<advisory><cve>, CVE references);
//     the definition's own advisory id (ELSA-2024-1234, PHSA-2020:00001)
//     goes in Aliases. A definition without CVEs is named by that id.
//   - Ranges/FixedIn: evr "less than v" → Fixed v; "less than or equal v" →
//     LastAffected v; "greater than (or equal) v" → Introduced v; "equals v"
//     → Versions. A zero epoch is dropped ("0:1.2-3" → "1.2-3").
//   - State: affected; unfixed when Microsoft says <patchable>false</patchable>
//     or only a lower bound is known; not affected for Microsoft's "Not
//     Applicable" and SUSE's "P is not affected" tests.
//   - Arches: the state's arch pattern ("(aarch64|ppc64le|s390x|x86_64)")
//     or Oracle's "Oracle Linux arch is x86_64" branch; when one fix applies
//     to every branch the lists are merged.
//   - Severity: the vendor's word (Oracle's IMPORTANT, SUSE's moderate,
//     Microsoft's High), normalized as Critical, High (important), Medium
//     (moderate), Low.
//
// What cannot be expressed is skipped or read as true, never guessed, and
// counted in Stats (logged after each Parse): ksplice-only fixes and
// unknown products drop their branch; signature tests, family tests and
// unknown test kinds are read as true.
package oval

import (
	"log/slog"
	"sync"

	"github.com/openclair/clair/feed"
)

func init() {
	for _, d := range []*Distro{Oracle, SUSE, Photon, Mariner} {
		feed.Register(New(d))
	}
}

// Feed is the OVAL feed of one distribution.
type Feed struct {
	Distro *Distro
	// Log receives each Parse's summary of what was skipped; nil is
	// slog.Default().
	Log *slog.Logger
}

var _ feed.Feed = (*Feed)(nil)

// New returns the feed of d.
func New(d *Distro) *Feed { return &Feed{Distro: d} }

// Name implements feed.Feed.
func (f *Feed) Name() string { return f.Distro.Name }

// DefaultURL implements feed.Feed.
func (f *Feed) DefaultURL() string { return f.Distro.URL }

// Stats counts what a Parse read and what it could not use.
type Stats struct {
	Documents   int
	Definitions int
	Advisories  int
	// Notes counts the constraints skipped or read as true, by kind.
	Notes map[string]int

	mu sync.Mutex
}

// maxNoteKinds bounds Notes: some notes quote the document.
const maxNoteKinds = 64

func (s *Stats) note(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Notes == nil {
		s.Notes = map[string]int{}
	}
	if _, ok := s.Notes[msg]; !ok && len(s.Notes) >= maxNoteKinds {
		msg = "other notes"
	}
	s.Notes[msg]++
}
