package redhat

import (
	"bytes"
	"os"
	"testing"

	"github.com/openclair/clair/vuln"
)

// FuzzParseDoc drives the VEX document parser with damaged documents: it
// must return an error or advisories that are well formed, never panic.
// Seeds are real documents (the small ones, whole) and a hand-reduced one
// with every status, remediation and purl qualifier the parser reads.
func FuzzParseDoc(f *testing.F) {
	for _, name := range []string{"testdata/vex/cve-2021-0084.json", "testdata/vex/cve-2024-22047.json", "testdata/vex/claircore-acceptance-cve-2026-0968.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(reduced))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseDoc("fuzz.json", bytes.NewReader(b), func(a *vuln.Advisory) error {
			if a.Name == "" || a.Package == "" || a.Namespace == "" || a.VersionFormat != "rpm" {
				t.Fatalf("malformed advisory %+v", a)
			}
			if (a.State == vuln.StateAffected) != (a.FixedIn != "") {
				t.Fatalf("state %s with fixed version %q", a.State, a.FixedIn)
			}
			return nil
		})
	})
}

// reduced is a VEX document cut down from CVE-2023-38545's and
// CVE-2025-40907's to one product of each kind.
const reduced = `{
 "document": {"tracking": {"id": "CVE-2023-38545", "status": "final", "initial_release_date": "2023-10-11T00:00:00+00:00"}, "aggregate_severity": {"text": "Important"}},
 "product_tree": {
  "branches": [{"category": "vendor", "name": "Red Hat", "branches": [
   {"category": "product_family", "name": "Red Hat Enterprise Linux", "branches": [
    {"category": "product_name", "name": "Red Hat Enterprise Linux BaseOS (v. 9)", "product": {"name": "Red Hat Enterprise Linux BaseOS (v. 9)", "product_id": "BaseOS-9.3.0.Z.MAIN", "product_identification_helper": {"cpe": "cpe:/o:redhat:enterprise_linux:9::baseos"}}},
    {"category": "product_name", "name": "Red Hat Enterprise Linux 8", "product": {"name": "Red Hat Enterprise Linux 8", "product_id": "red_hat_enterprise_linux_8", "product_identification_helper": {"cpe": "cpe:/o:redhat:enterprise_linux:8"}}},
    {"category": "product_name", "name": "Red Hat Enterprise Linux AppStream (v. 8)", "product": {"name": "AppStream", "product_id": "AppStream-8.6.0.Z.AUS", "product_identification_helper": {"cpe": "cpe:/a:redhat:rhel_aus:8.6::appstream"}}}]},
   {"category": "architecture", "name": "x86_64", "branches": [
    {"category": "product_version", "name": "libcurl-0:7.76.1-26.el9_3.2.x86_64", "product": {"name": "libcurl-0:7.76.1-26.el9_3.2.x86_64", "product_id": "libcurl-0:7.76.1-26.el9_3.2.x86_64", "product_identification_helper": {"purl": "pkg:rpm/redhat/libcurl@7.76.1-26.el9_3.2?arch=x86_64"}}},
    {"category": "product_version", "name": "perl-FCGI", "product": {"name": "perl-FCGI", "product_id": "perl-FCGI-1:0.78-11.module+el8.6.0+23193+83e23a7a.1.x86_64", "product_identification_helper": {"purl": "pkg:rpm/redhat/perl-FCGI@0.78-11.module%2Bel8.6.0%2B23193%2B83e23a7a.1?arch=x86_64&epoch=1&rpmmod=perl-FCGI:0.78:8060020250604201935:513b2a65"}}}]},
   {"category": "product_version", "name": "curl", "product": {"name": "curl", "product_id": "curl", "product_identification_helper": {"purl": "pkg:rpm/redhat/curl?arch=src"}}}]}],
  "relationships": [
   {"category": "default_component_of", "full_product_name": {"name": "x", "product_id": "BaseOS-9.3.0.Z.MAIN:libcurl-0:7.76.1-26.el9_3.2.x86_64"}, "product_reference": "libcurl-0:7.76.1-26.el9_3.2.x86_64", "relates_to_product_reference": "BaseOS-9.3.0.Z.MAIN"},
   {"category": "default_component_of", "full_product_name": {"name": "x", "product_id": "AppStream-8.6.0.Z.AUS:perl-FCGI"}, "product_reference": "perl-FCGI-1:0.78-11.module+el8.6.0+23193+83e23a7a.1.x86_64", "relates_to_product_reference": "AppStream-8.6.0.Z.AUS"},
   {"category": "default_component_of", "full_product_name": {"name": "x", "product_id": "red_hat_enterprise_linux_8:curl"}, "product_reference": "curl", "relates_to_product_reference": "red_hat_enterprise_linux_8"}]},
 "vulnerabilities": [{
  "cve": "CVE-2023-38545", "release_date": "2023-10-11T00:00:00+00:00",
  "notes": [{"category": "description", "text": "A heap-based buffer overflow flaw was found in the SOCKS5 proxy handshake in the Curl package."}],
  "references": [{"category": "self", "url": "https://access.redhat.com/security/cve/CVE-2023-38545"}],
  "product_status": {"fixed": ["BaseOS-9.3.0.Z.MAIN:libcurl-0:7.76.1-26.el9_3.2.x86_64", "AppStream-8.6.0.Z.AUS:perl-FCGI"], "known_affected": ["red_hat_enterprise_linux_8:curl"], "known_not_affected": ["red_hat_enterprise_linux_8:curl"]},
  "remediations": [{"category": "vendor_fix", "url": "https://access.redhat.com/errata/RHSA-2023:6745", "product_ids": ["BaseOS-9.3.0.Z.MAIN:libcurl-0:7.76.1-26.el9_3.2.x86_64"]}, {"category": "no_fix_planned", "details": "Will not fix", "product_ids": ["red_hat_enterprise_linux_8:curl"]}],
  "threats": [{"category": "impact", "details": "Important", "product_ids": ["BaseOS-9.3.0.Z.MAIN:libcurl-0:7.76.1-26.el9_3.2.x86_64"]}]
 }]
}`

func TestReduced(t *testing.T) {
	var got []*vuln.Advisory
	if err := parseDoc("reduced.json", bytes.NewReader([]byte(reduced)), func(a *vuln.Advisory) error { got = append(got, a); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		for _, a := range got {
			t.Logf("%+v", a)
		}
		t.Fatalf("%d advisories, want libcurl fixed, perl-FCGI fixed (module), curl will_not_fix (not_affected dropped: same release)", len(got))
	}
	for _, a := range got {
		switch a.Package {
		case "libcurl":
			if a.Namespace != "rhel:9" || a.FixedIn != "0:7.76.1-26.el9_3.2" || a.NormalizedSeverity != vuln.High || len(a.Aliases) != 1 {
				t.Errorf("libcurl: %+v", a)
			}
		case "perl-FCGI":
			if a.Namespace != "rhel:8" || a.Module != "perl-FCGI:0.78" || a.FixedIn != "1:0.78-11.module+el8.6.0+23193+83e23a7a.1" ||
				len(a.Repositories) != 1 || a.Repositories[0] != "cpe:/a:redhat:rhel_aus:8.6::appstream" || a.Severity != "Important" {
				t.Errorf("perl-FCGI: %+v", a)
			}
		case "curl":
			if a.Namespace != "rhel:8" || a.State != vuln.StateWontFix || len(a.Arches) != 0 {
				t.Errorf("curl: %+v", a)
			}
		default:
			t.Errorf("unexpected %+v", a)
		}
	}
}

func TestNamespace(t *testing.T) {
	for cpe, want := range map[string]string{
		"cpe:/o:redhat:enterprise_linux:9::baseos":          "rhel:9",
		"cpe:/a:redhat:enterprise_linux:8::appstream":       "rhel:8",
		"cpe:/a:redhat:rhel_eus:9.2::appstream":             "rhel:9",
		"cpe:/o:redhat:rhel_e4s:8.6::baseos":                "rhel:8",
		"cpe:/o:redhat:enterprise_linux:6":                  "rhel:6",
		"cpe:/a:redhat:openshift:4.12::el8":                 "",
		"cpe:/a:redhat:rhel_satellite_client:6::el9":        "",
		"cpe:/a:redhat:enterprise_linux_ai:1.4::el9":        "",
		"cpe:/o:redhat:rhel_els":                            "",
		"cpe:2.3:o:redhat:enterprise_linux:9:*:*:*:*:*:*:*": "rhel:9",
		"cpe:/o:fedoraproject:fedora:39":                    "",
	} {
		got, ok := Namespace(cpe)
		if got != want || ok != (want != "") {
			t.Errorf("Namespace(%q) = %q, %v; want %q", cpe, got, ok, want)
		}
	}
}
