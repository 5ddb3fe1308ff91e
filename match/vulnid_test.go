package match

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/openclair/clair/vuln"
)

// TestVulnIDStable pins vulnID to the ids clients have stored: the
// hash.Hash formulation it replaced, and literal ids.
func TestVulnIDStable(t *testing.T) {
	reference := func(a *vuln.Advisory) string {
		h := sha256.New()
		for _, s := range []string{a.Feed, a.Namespace, a.Package, a.Name, a.FixedIn, string(a.State)} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		return hex.EncodeToString(h.Sum(nil))[:16]
	}
	for _, tc := range []struct {
		a    vuln.Advisory
		want string
	}{
		{vuln.Advisory{}, "b0f66adc83641586"},
		{vuln.Advisory{Feed: "debian", Namespace: "debian:12", Package: "openssl", Name: "CVE-2023-0286", FixedIn: "3.0.8-1", State: vuln.StateAffected}, "8d37697c0dabdca6"},
		{vuln.Advisory{Feed: "osv", Namespace: "PyPI", Package: "flask-sqlalchemy", Name: "GHSA-xxxx-yyyy-zzzz", State: vuln.StateUnfixed}, ""},
		// Longer than vulnID's stack buffer.
		{vuln.Advisory{Feed: "ubuntu", Namespace: "ubuntu:22.04", Package: strings.Repeat("p", 300), Name: "CVE-2024-1", FixedIn: strings.Repeat("1.", 100), State: vuln.StateWontFix}, ""},
		{vuln.Advisory{Feed: "alpine", Namespace: "alpine:3.18", Package: "üñï", Name: "CVE-2022-9", FixedIn: "1.0-r1", State: vuln.StateAffected}, ""},
	} {
		got := vulnID(&tc.a)
		if want := reference(&tc.a); got != want {
			t.Errorf("vulnID(%+v) = %s, the stored formulation gives %s", tc.a, got, want)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("vulnID(%+v) = %s, want %s", tc.a, got, tc.want)
		}
	}
}
