package lockfile

import (
	"encoding/json"
	"errors"
	"strings"
)

// packageLock is the part of a package-lock.json the scanner reads. Entries
// are decoded one by one, so that one odd entry does not hide the others.
type packageLock struct {
	LockfileVersion json.RawMessage            `json:"lockfileVersion"`
	Packages        map[string]json.RawMessage `json:"packages"`
	Dependencies    map[string]json.RawMessage `json:"dependencies"`
}

// plPackage is an entry of the v2/v3 "packages" map.
type plPackage struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Resolved string `json:"resolved"`
	Link     bool   `json:"link"`
	Dev      bool   `json:"dev"`
}

// plDependency is an entry of the v1 "dependencies" tree.
type plDependency struct {
	Version      string                     `json:"version"`
	Dev          bool                       `json:"dev"`
	Dependencies map[string]json.RawMessage `json:"dependencies"`
}

// parsePackageLock reads the "packages" map of lockfile v2 and v3 (every
// installed folder by path: node_modules/a, node_modules/a/node_modules/b),
// or, for v1, the nested "dependencies" tree. The root project (""),
// workspace folders and links to them are left out.
func parsePackageLock(b []byte, c *collector) error {
	var pl packageLock
	if err := json.Unmarshal(b, &pl); err != nil {
		return err
	}
	if len(pl.Packages) > 0 {
		for k, raw := range pl.Packages {
			if k == "" {
				continue // the project itself
			}
			i := strings.LastIndex(k, "node_modules/")
			if i < 0 || (i > 0 && k[i-1] != '/') {
				continue // a workspace folder
			}
			var p plPackage
			if err := json.Unmarshal(raw, &p); err != nil {
				c.invalid++
				continue
			}
			if p.Link || strings.HasPrefix(p.Resolved, "file:") {
				continue // a workspace or a local folder
			}
			name := p.Name
			if name == "" {
				name = k[i+len("node_modules/"):]
			}
			if p.Version == "" {
				continue
			}
			c.record(name, p.Version, p.Dev)
		}
		return nil
	}
	if pl.Dependencies == nil && len(pl.LockfileVersion) == 0 {
		return errors.New("no lockfileVersion, packages or dependencies")
	}
	walkDependencies(pl.Dependencies, c)
	return nil
}

// walkDependencies reads a v1 dependencies tree. encoding/json bounds its
// depth.
func walkDependencies(deps map[string]json.RawMessage, c *collector) {
	for name, raw := range deps {
		var d plDependency
		if err := json.Unmarshal(raw, &d); err != nil {
			c.invalid++
			continue
		}
		if n, v, ok := npmVersion(name, d.Version); ok {
			c.record(n, v, d.Dev)
		}
		walkDependencies(d.Dependencies, c)
	}
}

// npmVersion reads a v1 version field: a registry version, an alias
// ("npm:real-name@1.2.3"), or the URL or path of a git, tarball or local
// dependency, which says nothing of the version and is skipped.
func npmVersion(name, v string) (string, string, bool) {
	if rest, ok := strings.CutPrefix(v, "npm:"); ok {
		i := strings.LastIndexByte(rest, '@')
		if i <= 0 {
			return "", "", false
		}
		return rest[:i], rest[i+1:], true
	}
	if v == "" || strings.ContainsAny(v, ":/#") {
		return "", "", false
	}
	return name, v, true
}
