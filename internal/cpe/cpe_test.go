package cpe

import (
	"slices"
	"testing"
)

func TestFields(t *testing.T) {
	for in, want := range map[string][]string{
		// Real CPEs of Red Hat's repository-to-cpe.json and VEX documents.
		"cpe:/o:redhat:enterprise_linux:9::baseos":      {"o", "redhat", "enterprise_linux", "9", "", "baseos"},
		"cpe:/a:redhat:rhel_eus:9.2::appstream":         {"a", "redhat", "rhel_eus", "9.2", "", "appstream"},
		"cpe:2.3:o:redhat:enterprise_linux:9:*:*:*:*:*": {"o", "redhat", "enterprise_linux", "9", "*", "*", "*", "*", "*"},
		"redhat:enterprise_linux":                       nil,
		"":                                              nil,
	} {
		if got := Fields(in); !slices.Equal(got, want) {
			t.Errorf("Fields(%q) = %q, want %q", in, got, want)
		}
	}
}
