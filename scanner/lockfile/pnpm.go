package lockfile

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// pnpmLock is the part of a pnpm-lock.yaml the scanner reads.
type pnpmLock struct {
	LockfileVersion yaml.Node            `yaml:"lockfileVersion"`
	Packages        map[string]yaml.Node `yaml:"packages"`
}

// pnpmPackage is one entry of "packages". Name and Version are there for
// packages not from the registry (git, tarball URL, local folder), whose key
// is no name and version.
type pnpmPackage struct {
	Name       string `yaml:"name"`
	Version    string `yaml:"version"`
	Resolution struct {
		Directory string `yaml:"directory"`
		Type      string `yaml:"type"`
	} `yaml:"resolution"`
}

// parsePnpm reads the "packages" of a pnpm-lock.yaml. Their keys changed
// with the lockfile version:
//
//	v5 (pnpm 6, 7):  /lodash/4.17.21, /@babel/core/7.23.0, /react-dom/18.2.0_react@18.2.0
//	v6 (pnpm 8):     /lodash@4.17.21, /@babel/core@7.23.0, /react-dom@18.2.0(react@18.2.0)
//	v9 (pnpm 9, 10): lodash@4.17.21,  @babel/core@7.23.0 (peers are under "snapshots")
//
// The underscore or parenthesized suffix is the peer dependencies the
// instance was resolved with; the package is the same.
func parsePnpm(b []byte, c *collector) error {
	var pl pnpmLock
	if err := yaml.Unmarshal(b, &pl); err != nil {
		return err
	}
	v5 := false
	if lv := strings.TrimSpace(pl.LockfileVersion.Value); lv != "" {
		major, _, _ := strings.Cut(lv, ".")
		if n, err := strconv.Atoi(major); err == nil && n < 6 {
			v5 = true
		}
	}
	for k, node := range pl.Packages {
		var p pnpmPackage
		if err := node.Decode(&p); err != nil {
			c.invalid++
			continue
		}
		if p.Resolution.Directory != "" || p.Resolution.Type == "directory" {
			continue // a local folder
		}
		name, version, ok := pnpmKey(k, v5)
		if p.Name != "" && p.Version != "" {
			name, version, ok = p.Name, p.Version, true
		} else if ok && p.Version != "" && !isPlainVersion(version) {
			// v9 keys a git or tarball package by its URL; its entry has
			// the version.
			version = p.Version
		}
		if !ok || !isPlainVersion(version) {
			if !ok && !localKey(k) {
				c.invalid++
			}
			continue
		}
		c.add(name, version)
	}
	return nil
}

// localKey reports whether a packages key is a local folder or link.
func localKey(k string) bool {
	k = strings.TrimPrefix(k, "/")
	if localProtocol(k) {
		return true
	}
	if _, ref, ok := yarnSpec(k); ok && localProtocol(ref) {
		return true
	}
	return false
}

// isPlainVersion reports whether a version is a version and not a URL, path
// or protocol reference.
func isPlainVersion(v string) bool {
	return v != "" && !strings.ContainsAny(v, ":/")
}

// pnpmKey splits a packages key into name and version.
func pnpmKey(k string, v5 bool) (name, version string, ok bool) {
	k = strings.TrimPrefix(k, "/")
	if localProtocol(k) {
		return "", "", false
	}
	if v5 {
		segs := strings.Split(k, "/")
		if len(segs) > 2 && strings.Contains(segs[0], ".") && !strings.HasPrefix(segs[0], "@") {
			segs = segs[1:] // a registry host
		}
		switch {
		case len(segs) == 3 && strings.HasPrefix(segs[0], "@"):
			name, version = segs[0]+"/"+segs[1], segs[2]
		case len(segs) == 2 && !strings.HasPrefix(segs[0], "@"):
			name, version = segs[0], segs[1]
		default:
			return "", "", false
		}
		if i := strings.IndexAny(version, "_("); i >= 0 {
			version = version[:i]
		}
		return name, version, name != "" && version != ""
	}
	if i := strings.IndexByte(k, '('); i >= 0 {
		k = k[:i]
	}
	name, version, ok = yarnSpec(k)
	if !ok || name == "" || version == "" {
		return "", "", false
	}
	// A registry host before the name: registry.example.com/lodash@1.0.0.
	if !strings.HasPrefix(name, "@") {
		if host, rest, cut := strings.Cut(name, "/"); cut && strings.Contains(host, ".") && !strings.Contains(rest, "/") {
			name = rest
		}
	}
	if strings.Count(name, "/") > 1 || (!strings.HasPrefix(name, "@") && strings.Contains(name, "/")) {
		return "", "", false
	}
	return name, version, true
}
