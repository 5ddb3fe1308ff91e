package vuln

import (
	"strings"
)

// Debian releases by number and codename. The tracker names releases by
// codename, images say VERSION_ID (and, since Debian 9, VERSION_CODENAME);
// testing images carry only the codename.
var debianCodenames = map[string]string{
	"squeeze":  "6",
	"wheezy":   "7",
	"jessie":   "8",
	"stretch":  "9",
	"buster":   "10",
	"bullseye": "11",
	"bookworm": "12",
	"trixie":   "13",
	"forky":    "14",
	"duke":     "15",
}

// DebianRelease maps a Debian codename to its release number ("bookworm" ->
// "12"); "sid" and "unstable" map to "unstable". ok is false for an unknown
// codename.
func DebianRelease(codename string) (string, bool) {
	c := strings.ToLower(strings.TrimSpace(codename))
	if c == "sid" || c == "unstable" {
		return "unstable", true
	}
	n, ok := debianCodenames[c]
	return n, ok
}

// DebianCodename maps a release number to its codename ("12" -> "bookworm").
func DebianCodename(release string) (string, bool) {
	for c, n := range debianCodenames {
		if n == release {
			return c, true
		}
	}
	return "", false
}

// Namespace is the key that ties a distribution found in an image to the
// advisories that apply to it: "debian:12", "ubuntu:20.04", "alpine:v3.18".
// It returns "" for a distribution no distribution feed covers.
func Namespace(d *Distribution) string {
	if d == nil {
		return ""
	}
	if ns := builtinNamespace(d); ns != "" {
		return ns
	}
	return pluginNamespace(d)
}

func builtinNamespace(d *Distribution) string {
	switch strings.ToLower(d.DID) {
	case "debian":
		v := strings.TrimSpace(d.VersionID)
		if i := strings.IndexByte(v, '.'); i > 0 { // "9.13" from debian_version
			v = v[:i]
		}
		if v == "" {
			if n, ok := DebianRelease(d.VersionCodeName); ok {
				v = n
			}
		}
		if v == "" && strings.Contains(d.PrettyName, "sid") {
			v = "unstable"
		}
		if v == "" {
			return ""
		}
		return "debian:" + v
	case "ubuntu":
		if d.VersionID == "" {
			return ""
		}
		return "ubuntu:" + d.VersionID
	case "alpine":
		return AlpineNamespace(d.VersionID)
	}
	return rpmNamespace(d)
}

// rpmNamespace maps the RPM distributions. The prefixes are the feeds'
// contract (feed/redhat, feed/oval, feed/amazon, feed/osv):
//
//	rhel:9            RHEL, UBI and CentOS (Red Hat's data covers CentOS, as in Clair and Trivy)
//	rocky:9, alma:9   Rocky Linux and AlmaLinux (their OSV records)
//	ol:8              Oracle Linux (ELSA OVAL)
//	amzn:2, amzn:2023, amzn:2018.03
//	sles:15.5         SUSE Linux Enterprise (version with its service pack)
//	opensuse-leap:15.5
//	photon:3.0
//	mariner:2.0, azurelinux:3.0
func rpmNamespace(d *Distribution) string {
	v := strings.TrimSpace(d.VersionID)
	if v == "" {
		return ""
	}
	major := v
	if i := strings.IndexByte(v, '.'); i > 0 {
		major = v[:i]
	}
	switch id := strings.ToLower(d.DID); id {
	case "rhel", "centos", "redhat":
		return "rhel:" + major
	case "rocky":
		return "rocky:" + major
	case "almalinux", "alma":
		return "alma:" + major
	case "ol", "oracle":
		return "ol:" + major
	case "amzn":
		return "amzn:" + v
	case "sles", "sled", "sle-micro":
		return "sles:" + v
	case "opensuse-leap":
		return "opensuse-leap:" + v
	case "photon":
		if !strings.Contains(v, ".") {
			v += ".0"
		}
		return "photon:" + v
	case "mariner", "azurelinux":
		if !strings.Contains(v, ".") {
			v += ".0"
		}
		return id + ":" + v
	}
	return ""
}

// AlpineNamespace maps an Alpine VERSION_ID ("3.18.9", "3.21_alpha20240923")
// to the secdb branch namespace ("alpine:v3.18", "alpine:edge").
func AlpineNamespace(versionID string) string {
	v := strings.TrimSpace(versionID)
	if v == "" {
		return ""
	}
	if strings.Contains(v, "_alpha") || strings.Contains(v, "edge") {
		return "alpine:edge"
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return "alpine:v" + parts[0] + "." + parts[1]
}

// Red Hat's content sets: the rhel scanner records each as a Repository of
// Key RedHatRepositoryKey, and the redhat-repo2cpe feed stores the mapping
// of content sets to repository CPEs as rows of namespace
// RedHatRepo2CPENamespace, which the matcher reads. They live here, in the
// model, so that the matcher depends on neither the scanner nor the feed.
const (
	RedHatRepositoryKey     = "rhel-cpe-repository"
	RedHatRepo2CPENamespace = "rhel-repo2cpe"
)

// Internal reports whether a namespace holds data that is not
// vulnerabilities (the repo2cpe mapping): listings leave it out.
func Internal(namespace string) bool { return namespace == RedHatRepo2CPENamespace }
