package lockfile

import (
	"golang.org/x/mod/modfile"
)

// parseGoMod reads the require lines of a go.mod, with its replace
// directives applied: a module replaced by another module at a version is
// reported as the replacement, one replaced by a local folder is left out.
// Since Go 1.17 a go.mod lists every module of the build (the "// indirect"
// ones too); older ones list only the direct requirements, and the rest is
// in go.sum, which this scanner does not read.
func parseGoMod(b []byte, c *collector) error {
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		// A directive newer than golang.org/x/mod knows: read the
		// requirements leniently, without the replacements (ParseLax drops
		// them).
		lax, lerr := modfile.ParseLax("go.mod", b, nil)
		if lerr != nil {
			return err
		}
		c.warn("read leniently, replace directives not applied: %s", clipError(err))
		f = lax
	}
	if f.Go != nil {
		c.fact("go", f.Go.Version)
	}
	// A replacement for one version wins over one for every version.
	type key struct{ path, version string }
	repl := map[key]modfile.Replace{}
	for _, r := range f.Replace {
		if r != nil {
			repl[key{r.Old.Path, r.Old.Version}] = *r
		}
	}
	for _, r := range f.Require {
		if r == nil {
			continue
		}
		m := r.Mod
		rp, ok := repl[key{m.Path, m.Version}]
		if !ok {
			rp, ok = repl[key{m.Path, ""}]
		}
		if ok {
			if rp.New.Version == "" {
				continue // a local folder
			}
			m = rp.New
		}
		c.add(m.Path, m.Version)
	}
	return nil
}
