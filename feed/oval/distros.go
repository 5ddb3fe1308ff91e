package oval

import (
	"path"
	"regexp"
)

// Distro describes one vendor's OVAL documents.
type Distro struct {
	// Name is the feed's name.
	Name string
	// URL is the default URL: one document, or a directory holding Files.
	URL string
	// Files are the documents fetched from a directory URL, in order.
	Files []string
	// Release maps a release test's comment to a namespace.
	Release func(comment string) (ns string, ok bool)
	// FileNamespace maps a document's file name to the namespace of its
	// definitions that test no release; nil or "" for none.
	FileNamespace func(file string) string
}

func (d *Distro) release(comment string) (string, bool) {
	if d.Release == nil || comment == "" {
		return "", false
	}
	return d.Release(comment)
}

func (d *Distro) fileNS(file string) string {
	if d.FileNamespace == nil {
		return ""
	}
	return d.FileNamespace(path.Base(file))
}

var (
	oracleRelease  = regexp.MustCompile(`^Oracle Linux (\d+) is installed$`)
	oracleFile     = regexp.MustCompile(`^com\.oracle\.elsa-ol(\d+)\.xml`)
	photonRelease  = regexp.MustCompile(`^(?:VMware )?Photon OS (\d+)(?:\.(\d+))? is installed$`)
	photonFile     = regexp.MustCompile(`^com\.vmware\.phsa-photon(\d+)(?:\.(\d+))?\.xml`)
	suseRelease    = regexp.MustCompile(`^SUSE Linux Enterprise (?:Server|Server for SAP Applications|Desktop|High Performance Computing|Real Time|Micro|Module for [A-Za-z0-9 &+.-]+?) (\d+)(?:\.(\d+))?(?: SP(\d+))?(?:-[A-Z]+)? is installed$`)
	leapRelease    = regexp.MustCompile(`^openSUSE Leap (\d+\.\d+) is installed$`)
	marinerFile    = regexp.MustCompile(`^cbl-mariner-(\d+\.\d+)-oval\.xml`)
	azureLinuxFile = regexp.MustCompile(`^azurelinux-(\d+\.\d+)-oval\.xml`)
)

// The four distributions. Oracle publishes one document for every release
// (vunnel and Trivy read this one; com.oracle.elsa-olN.xml.bz2 are its
// per-release slices). SUSE publishes one document per SLES major release
// (every service pack inside) and one per Leap release. Photon and
// Microsoft publish one per release.
var (
	Oracle = &Distro{
		Name: "oracle",
		URL:  "https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2",
		Files: []string{
			"com.oracle.elsa-all.xml.bz2",
		},
		Release: func(c string) (string, bool) {
			if m := oracleRelease.FindStringSubmatch(c); m != nil {
				return "ol:" + m[1], true
			}
			return "", false
		},
		FileNamespace: func(f string) string {
			if m := oracleFile.FindStringSubmatch(f); m != nil {
				return "ol:" + m[1]
			}
			return ""
		},
	}
	SUSE = &Distro{
		Name: "suse",
		URL:  "https://ftp.suse.com/pub/projects/security/oval/",
		Files: []string{
			"suse.linux.enterprise.server.12.xml.gz",
			"suse.linux.enterprise.server.15.xml.gz",
			"opensuse.leap.15.3.xml.gz",
			"opensuse.leap.15.4.xml.gz",
			"opensuse.leap.15.5.xml.gz",
			"opensuse.leap.15.6.xml.gz",
		},
		Release: func(c string) (string, bool) {
			if m := suseRelease.FindStringSubmatch(c); m != nil {
				v := m[1]
				switch {
				case m[3] != "":
					v += "." + m[3] // 15 SP5
				case m[2] != "":
					v += "." + m[2] // Micro 5.3
				}
				return "sles:" + v, true
			}
			if m := leapRelease.FindStringSubmatch(c); m != nil {
				return "opensuse-leap:" + m[1], true
			}
			return "", false
		},
	}
	Photon = &Distro{
		Name: "photon",
		URL:  "https://packages.vmware.com/photon/photon_oval_definitions/",
		Files: []string{
			"com.vmware.phsa-photon1.xml",
			"com.vmware.phsa-photon2.xml",
			"com.vmware.phsa-photon3.xml",
			"com.vmware.phsa-photon4.xml",
			"com.vmware.phsa-photon5.xml",
		},
		Release: func(c string) (string, bool) {
			if m := photonRelease.FindStringSubmatch(c); m != nil {
				return "photon:" + m[1] + "." + or(m[2], "0"), true
			}
			return "", false
		},
		FileNamespace: func(f string) string {
			if m := photonFile.FindStringSubmatch(f); m != nil {
				return "photon:" + m[1] + "." + or(m[2], "0")
			}
			return ""
		},
	}
	Mariner = &Distro{
		Name: "mariner",
		URL:  "https://raw.githubusercontent.com/microsoft/AzureLinuxVulnerabilityData/main/",
		Files: []string{
			"cbl-mariner-1.0-oval.xml",
			"cbl-mariner-2.0-oval.xml",
			"azurelinux-3.0-oval.xml",
		},
		FileNamespace: func(f string) string {
			if m := marinerFile.FindStringSubmatch(f); m != nil {
				return "mariner:" + m[1]
			}
			if m := azureLinuxFile.FindStringSubmatch(f); m != nil {
				return "azurelinux:" + m[1]
			}
			return ""
		},
	}
)

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
