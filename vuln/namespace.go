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
