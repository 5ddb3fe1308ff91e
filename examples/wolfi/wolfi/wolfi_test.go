package wolfi

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

func parse(t testing.TB, b []byte) ([]*vuln.Advisory, error) {
	var out []*vuln.Advisory
	err := Feed{Namespace: Namespace}.Parse(context.Background(), bytes.NewReader(b), int64(len(b)), func(a *vuln.Advisory) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

func TestParseRealSecdb(t *testing.T) {
	b, err := os.ReadFile("../testdata/wolfi-security.json")
	if err != nil {
		t.Fatal(err)
	}
	advs, err := parse(t, b)
	if err != nil {
		t.Fatal(err)
	}
	var notAffected, affected int
	for _, a := range advs {
		if a.Namespace != Namespace || a.VersionFormat != "apk" {
			t.Fatalf("advisory %+v", a)
		}
		switch a.State {
		case vuln.StateNotAffected:
			notAffected++
		case vuln.StateAffected:
			affected++
		}
		if a.Package == "expat" && a.Name == "CVE-2022-43680" && a.FixedIn != "2.5.0-r0" {
			t.Errorf("expat CVE-2022-43680 fixed in %q, want 2.5.0-r0", a.FixedIn)
		}
	}
	// Counted independently in the sample: 27 packages, the "0" entries of
	// coreutils, flex, postgresql-15 and apko are not-affected statements.
	if affected == 0 || notAffected == 0 {
		t.Fatalf("affected %d, not affected %d", affected, notAffected)
	}
}

func TestParseBadInput(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"packages":[{"pkg":{"name":"x","secfixes":{"1-r0":["CVE-2022-1234"]}}}`, "offset"},
		{`{"packages":[{"pkg":{"name":"","secfixes":{}}}]}`, "packages[0].pkg.name"},
		{`{"packages":[]}`, "no packages"},
		{`[]`, "top level"},
	} {
		_, err := parse(t, []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "wolfi") {
			t.Errorf("%s: err %v, want one naming %q", c.in, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../testdata/wolfi-security.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"packages":[{"pkg":{"name":"a","secfixes":{"0":["CVE-2020-0001"]}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parse(t, b)
	})
}
