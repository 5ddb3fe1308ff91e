package deb

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	debver "github.com/knqyf263/go-deb-version"
)

// realVersions gathers real dpkg versions: the installed versions of the
// repository's Debian test image and the fixed versions of its feed excerpt.
func realVersions(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	b, err := os.ReadFile("../../testdata/feeds/debian-bullseye-nginx.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`"fixed_version":"([^"]+)"`).FindAllSubmatch(b, -1) {
		set[string(m[1])] = true
	}
	for _, v := range []string{"1.0~rc1", "1.0~~", "1.0~", "1.0", "1.0+b1", "1.0a", "1.0.0", "1:0.1", "0:1.0", "1.0-0", "1.0-a", "1.0-~", "2.36.1-8+deb11u1", "2.36.1-8+deb11u10"} {
		set[v] = true
	}
	var out []string
	for v := range set {
		if _, err := Parse(v); err == nil {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// TestAgainstLibrary checks every pair of real versions against
// knqyf263/go-deb-version's comparison.
func TestAgainstLibrary(t *testing.T) {
	vs := realVersions(t)
	if len(vs) > 200 {
		vs = vs[:200]
	}
	for _, a := range vs {
		pa, _ := Parse(a)
		la, _ := debver.NewVersion(a)
		for _, b := range vs {
			pb, _ := Parse(b)
			lb, _ := debver.NewVersion(b)
			want := la.Compare(lb)
			if want > 0 {
				want = 1
			} else if want < 0 {
				want = -1
			}
			if got := pa.Cmp(pb); got != want {
				t.Errorf("Cmp(%q, %q) = %d, library says %d", a, b, got, want)
			}
		}
	}
}

// TestAgainstDpkg checks a sample of pairs against dpkg itself, through
// python3-apt (one process for all pairs), when it is installed.
func TestAgainstDpkg(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import apt_pkg").Run(); err != nil {
		t.Skip("python3-apt not installed")
	}
	vs := realVersions(t)
	var pairs [][2]string
	for i, a := range vs {
		for j := i % 7; j < len(vs); j += 13 {
			pairs = append(pairs, [2]string{a, vs[j]})
		}
	}
	in, _ := json.Marshal(pairs)
	cmd := exec.Command(py, "-c", `import apt_pkg, json, sys
apt_pkg.init_system()
print(json.dumps([(lambda c: (c > 0) - (c < 0))(apt_pkg.version_compare(a, b)) for a, b in json.load(sys.stdin)]))`)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, p := range pairs {
		a, _ := Parse(p[0])
		b, _ := Parse(p[1])
		if got := a.Cmp(b); got != want[i] {
			t.Errorf("Cmp(%q, %q) = %d, dpkg says %d", p[0], p[1], got, want[i])
		}
	}
	t.Logf("%d pairs agree with dpkg", len(pairs))
}
