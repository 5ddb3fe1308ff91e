// Package vuln holds the domain model shared by the indexer, the feeds, the
// matcher, the store and the report formats. Its JSON shapes are Clair v4's, so
// tools written against Clair read them unchanged.
package vuln

import (
	"time"
)

// Package is an installed package. For distribution packages Source is the
// source package it was built from (Debian's Source:, Alpine's origin, the
// source RPM); matching against distribution feeds goes through it.
type Package struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Version        string   `json:"version"`
	Kind           string   `json:"kind,omitempty"` // "binary" or "source"
	Source         *Package `json:"source,omitempty"`
	NormalizedVer  string   `json:"normalized_version,omitempty"`
	Module         string   `json:"module,omitempty"`
	Arch           string   `json:"arch,omitempty"`
	CPE            string   `json:"cpe,omitempty"`
	PackageDB      string   `json:"package_db,omitempty"`
	RepositoryHint string   `json:"repository_hint,omitempty"`
	// Ecosystem names the version syntax and the kind of database the package
	// came from: "dpkg", "apk", "rpm", "go", "pypi", ... It selects the matcher.
	Ecosystem string `json:"ecosystem,omitempty"`
	// Purl is the package URL (packageurl-go), for SBOM output and language packages.
	Purl string `json:"purl,omitempty"`
	// Path is the file the package was found in (language packages).
	Path string `json:"path,omitempty"`
	// Dev marks a development dependency of a lock file (npm "dev",
	// Pipfile "develop", composer "packages-dev", poetry's dev group):
	// what the build runs, not necessarily what it ships.
	Dev bool `json:"dev,omitempty"`
}

// Package kinds.
const (
	KindBinary = "binary"
	KindSource = "source"
)

// SourceName is the name the distribution feeds key on: the source package
// when there is one, the package itself otherwise.
func (p *Package) SourceName() string {
	if p.Source != nil && p.Source.Name != "" {
		return p.Source.Name
	}
	return p.Name
}

// SourceVersion is the version the distribution feeds compare against: the
// source package's own version when it has one (a binNMU or a binary built from
// an older source), the binary's version otherwise.
func (p *Package) SourceVersion() string {
	if p.Source != nil && p.Source.Version != "" {
		return p.Source.Version
	}
	return p.Version
}

// Distribution is the operating system release an image is built on, read
// from os-release and its relatives.
type Distribution struct {
	ID              string `json:"id"`
	DID             string `json:"did"` // os-release ID: debian, ubuntu, alpine, ...
	Name            string `json:"name"`
	Version         string `json:"version"`
	VersionCodeName string `json:"version_code_name"`
	VersionID       string `json:"version_id"`
	Arch            string `json:"arch"`
	CPE             string `json:"cpe"`
	PrettyName      string `json:"pretty_name"`
}

// Repository is where packages came from (a distribution repository, a
// language registry such as "pypi" or "maven").
type Repository struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Key  string `json:"key,omitempty"`
	URI  string `json:"uri,omitempty"`
	CPE  string `json:"cpe,omitempty"`
}

// Environment says where and in which context a package was found.
type Environment struct {
	PackageDB      string   `json:"package_db"`
	IntroducedIn   string   `json:"introduced_in"`
	DistributionID string   `json:"distribution_id"`
	RepositoryIDs  []string `json:"repository_ids"`
}

// IndexReport is what indexing an image produced: everything installed, and
// nothing about vulnerabilities.
type IndexReport struct {
	ManifestHash  string                    `json:"manifest_hash"`
	State         string                    `json:"state"`
	Packages      map[string]*Package       `json:"packages"`
	Distributions map[string]*Distribution  `json:"distributions"`
	Repositories  map[string]*Repository    `json:"repository"`
	Environments  map[string][]*Environment `json:"environments"`
	Success       bool                      `json:"success"`
	Err           string                    `json:"err"`
	// Layers lists the layer digests in order, bottom first.
	Layers []string `json:"layers,omitempty"`
	// Warnings are problems that did not stop indexing (a file skipped, ...).
	Warnings []string `json:"warnings,omitempty"`
	// IndexState is the indexer state (its scanners and their versions) the
	// report was made with; a report of another state is indexed again
	// when its manifest is posted, as Clair does.
	IndexState string `json:"index_state,omitempty"`
}

// IndexFinished is the State of a complete index report.
const IndexFinished = "IndexFinished"

// Vulnerability is one advisory as it applies to one package of a report.
type Vulnerability struct {
	ID                 string        `json:"id"`
	Updater            string        `json:"updater"`
	Name               string        `json:"name"`
	Description        string        `json:"description"`
	Issued             time.Time     `json:"issued,omitzero"` // absent when the feed gives no date, never 0001-01-01
	Links              string        `json:"links"`
	Severity           string        `json:"severity"`
	NormalizedSeverity Severity      `json:"normalized_severity"`
	Package            *Package      `json:"package"`
	Distribution       *Distribution `json:"distribution"`
	Repository         *Repository   `json:"repository"`
	FixedInVersion     string        `json:"fixed_in_version"`
	// State is the advisory state behind this finding: "affected" (fixed in
	// FixedInVersion) or "unfixed"; later feeds add "will_not_fix".
	State string `json:"state,omitempty"`
	// Aliases are other ids of the same vulnerability (GHSA, DSA, USN, ...).
	Aliases []string `json:"aliases,omitempty"`
	// SeveritySource says where NormalizedSeverity came from: the updater
	// (feed) name when the distribution or ecosystem rated it, or
	// "cvss:<source> <version>" ("cvss:nvd 3.1") when it had no rating and
	// the CVSS base severity stands in.
	SeveritySource string `json:"severity_source,omitempty"`
}

// VulnerabilityReport is an IndexReport joined with today's advisories.
type VulnerabilityReport struct {
	ManifestHash           string                    `json:"manifest_hash"`
	Packages               map[string]*Package       `json:"packages"`
	Distributions          map[string]*Distribution  `json:"distributions"`
	Repositories           map[string]*Repository    `json:"repository"`
	Environments           map[string][]*Environment `json:"environments"`
	Vulnerabilities        map[string]*Vulnerability `json:"vulnerabilities"`
	PackageVulnerabilities map[string][]string       `json:"package_vulnerabilities"`
	Enrichments            map[string][]any          `json:"enrichments"`
}
