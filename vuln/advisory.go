package vuln

import "time"

// Advisory is one feed statement about one package in one namespace: "CVE-X
// affects source package P of debian:12 before version V". Feeds produce them,
// the store keeps them, the matcher compares installed versions against them.
type Advisory struct {
	// Feed is the name of the feed (updater) that produced the advisory.
	Feed string `json:"feed"`
	// Name is the vulnerability id the report shows: the CVE where there is
	// one, the advisory id (DSA-, ALSA-, GHSA-, ...) otherwise.
	Name string `json:"name"`
	// Namespace is the distribution release or ecosystem the advisory applies
	// to, as Namespace() computes it from an image: "debian:12",
	// "ubuntu:20.04", "alpine:v3.18".
	Namespace string `json:"namespace"`
	// Package is the package name as the feed names it (Debian and Ubuntu:
	// source package; Alpine: origin package).
	Package string `json:"package"`
	// VersionFormat selects the comparator: "dpkg", "apk", "rpm", ...
	VersionFormat string `json:"version_format"`
	// State says how to read the range.
	State State `json:"state"`
	// Ranges hold the affected versions when State is StateAffected: a
	// version v is affected when some range has Introduced <= v (or Introduced
	// empty) and v < Fixed (or v <= LastAffected, or neither bound set).
	Ranges []Range `json:"ranges,omitempty"`
	// Versions lists affected versions explicitly (OSV "versions"); a version
	// in it is affected whatever the ranges say.
	Versions []string `json:"versions,omitempty"`
	// FixedIn is the version that fixes it, for the report ("" when unfixed).
	FixedIn string `json:"fixed_in,omitempty"`

	// Qualifiers narrow which installed packages of the namespace the
	// advisory speaks of; RPM distributions need them, others leave them
	// empty (no constraint).
	//
	// Arches lists the package architectures it applies to ("x86_64",
	// "noarch", ...); empty means every architecture.
	Arches []string `json:"arches,omitempty"`
	// Module is the modularity stream ("nodejs:18") the fixed package belongs
	// to; a package from a module matches only advisories of that module, a
	// package from none only advisories without one.
	Module string `json:"module,omitempty"`
	// Repositories lists the repositories (Red Hat: repository CPEs such as
	// "cpe:/o:redhat:enterprise_linux:9::baseos") the advisory covers; empty
	// means every repository of the namespace.
	Repositories []string `json:"repositories,omitempty"`

	Severity           string    `json:"severity,omitempty"` // the feed's own word
	NormalizedSeverity Severity  `json:"normalized_severity"`
	Description        string    `json:"description,omitempty"`
	Links              []string  `json:"links,omitempty"`
	Issued             time.Time `json:"issued,omitzero"`
	Aliases            []string  `json:"aliases,omitempty"`
}

// State is the advisory's verdict for the package in the namespace.
type State string

// States. "Not affected" is an explicit state so that a feed can override a
// broader statement; the matcher never reports it.
const (
	StateAffected    State = "affected"     // affected in Ranges, fixed in FixedIn
	StateUnfixed     State = "unfixed"      // every version affected, no fix yet
	StateNotAffected State = "not_affected" // never affected
	StateWontFix     State = "will_not_fix" // affected, the vendor will not fix
)

// Range is one affected interval in the advisory's version syntax.
type Range struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
}
