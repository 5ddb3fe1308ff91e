package java

import (
	"path"
	"strings"

	"github.com/package-url/packageurl-go"
)

// Purl is the package URL of a Maven artifact.
func Purl(group, artifact, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeMaven, group, artifact, version, nil, "").ToString()
}

// props are Maven coordinates.
type props struct {
	group, artifact, version string
}

func (p props) valid() bool { return p.artifact != "" && p.version != "" }

// isOwn reports whether some pom.properties is the archive's own, by the
// artifact its file name names. A name without a version ("app.jar") says
// nothing, and then a single pom.properties is taken as the archive's.
func isOwn(poms []props, own props) bool {
	if own.version == "" {
		return len(poms) == 1
	}
	return matches(poms, own)
}

func matches(poms []props, p props) bool {
	for _, q := range poms {
		if q.artifact == p.artifact && (p.version == "" || q.version == p.version) {
			return true
		}
	}
	return false
}

// fileNameProps reads an artifact and version from an archive's file name
// as Maven names them: artifactId-version[-classifier].jar, the version
// beginning at the last "-" followed by a digit ("log4j-1.2-api-2.14.1.jar").
func fileNameProps(name string) props {
	base := strings.TrimSuffix(name, path.Ext(name))
	for i := len(base) - 2; i > 0; i-- {
		if base[i] == '-' && base[i+1] >= '0' && base[i+1] <= '9' {
			return props{artifact: cleanValue(base[:i]), version: cleanValue(base[i+1:])}
		}
	}
	return props{artifact: cleanValue(base)}
}
