package lockfile

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

var _ scanner.Combiner = (*Scanner)(nil)

// parseGoSum reads the module lines of a go.sum ("path version hash"; the
// "path version/go.mod hash" lines only vouch for a go.mod read while
// resolving versions, not for code in the build, and are skipped). Combine
// decides whether they count.
func parseGoSum(b []byte, c *collector) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !strings.HasPrefix(f[1], "v") || !strings.HasPrefix(f[2], "h1:") {
			c.invalid++
			continue
		}
		if strings.HasSuffix(f[1], "/go.mod") {
			continue
		}
		c.add(f[0], f[1])
	}
	return sc.Err()
}

// Combine implements scanner.Combiner. Lock files are read one at a time;
// this is where what one file says about another is applied:
//
//   - a go.sum counts only beside a go.mod older than Go 1.17 (or without a
//     go line), whose require lines are only the direct dependencies: its
//     modules not in the go.mod are added, the highest version of each (the
//     one minimal version selection keeps). From Go 1.17 on, go.mod lists
//     every module of the build and go.sum adds nothing.
//   - a requirements file's -r includes are followed among the requirements
//     files read; one that is missing (or named so that it was not read) is
//     a warning. A file named only by -c constrains versions without
//     requiring anything, and its pins are not packages.
func (*Scanner) Combine(results map[string]*scanner.Result) *scanner.Result {
	out := &scanner.Result{}
	paths := make([]string, 0, len(results))
	for p := range results {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	constraintOnly := map[string]bool{}
	required := map[string]bool{}
	for _, p := range paths {
		r := results[p]
		if r == nil || r.Facts == nil {
			continue
		}
		for _, inc := range splitFact(r.Facts["requires"]) {
			target := path.Join(path.Dir(p), inc)
			required[target] = true
			if results[target] == nil {
				out.Warnings = append(out.Warnings, fmt.Sprintf("lockfile: %s: -r %s: not found, or not named like a requirements file (requirements*.txt, *-requirements.txt, requirements/*.txt)", p, scanner.Clip(inc)))
			}
		}
		for _, inc := range splitFact(r.Facts["constraints"]) {
			constraintOnly[path.Join(path.Dir(p), inc)] = true
		}
	}
	for p := range required {
		delete(constraintOnly, p)
	}

	for _, p := range paths {
		r := results[p]
		if r == nil {
			continue
		}
		out.Warnings = append(out.Warnings, r.Warnings...)
		switch {
		case constraintOnly[p]:
			continue
		case path.Base(p) == "go.sum":
			out.Packages = append(out.Packages, goSumModules(p, r, results[path.Join(path.Dir(p), "go.mod")])...)
			continue
		}
		out.Packages = append(out.Packages, r.Packages...)
	}
	if len(out.Packages) == 0 && len(out.Warnings) == 0 {
		return nil
	}
	return out
}

// goSumModules are the modules of a go.sum that its go.mod does not list,
// when the go.mod predates Go 1.17.
func goSumModules(p string, sum, mod *scanner.Result) []*vuln.Package {
	if mod == nil {
		return nil // a go.sum alone describes no build
	}
	if v := mod.Facts["go"]; v != "" && semver.Compare("v"+v, "v1.17") >= 0 {
		return nil
	}
	listed := map[string]bool{}
	for _, m := range mod.Packages {
		listed[m.Name] = true
	}
	best := map[string]*vuln.Package{}
	for _, m := range sum.Packages {
		if listed[m.Name] {
			continue
		}
		if b := best[m.Name]; b == nil || semver.Compare(m.Version, b.Version) > 0 {
			best[m.Name] = m
		}
	}
	out := make([]*vuln.Package, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func splitFact(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
