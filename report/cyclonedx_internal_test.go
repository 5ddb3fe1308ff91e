package report

import (
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// TestCDXAnalysis: each kind of suppression package suppress makes, as
// CycloneDX states it.
func TestCDXAnalysis(t *testing.T) {
	for _, tc := range []struct {
		s     Suppressed
		state cdx.ImpactAnalysisState
		just  cdx.ImpactAnalysisJustification
	}{
		{Suppressed{Reason: "not_affected: vulnerable_code_not_present", Source: "vex a.json"}, cdx.IASNotAffected, cdx.IAJCodeNotPresent},
		{Suppressed{Reason: "not_affected: inline_mitigations_already_exist: seccomp", Source: "vex a.json"}, cdx.IASNotAffected, cdx.IAJProtectedByMitigatingControl},
		{Suppressed{Reason: "not_affected: code_not_reachable", Source: "vex b.cdx.json"}, cdx.IASNotAffected, cdx.IAJCodeNotReachable},
		{Suppressed{Reason: "not_affected: something else", Source: "vex a.json"}, cdx.IASNotAffected, ""},
		{Suppressed{Reason: "fixed", Source: "vex a.json"}, cdx.IASResolved, ""},
		{Suppressed{Reason: "not_affected: vulnerable_code_not_present", Source: "ignore-file .clairignore.yaml line 3"}, cdx.IASNotAffected, ""},
	} {
		a := cdxAnalysis(&tc.s)
		if a.State != tc.state || a.Justification != tc.just || a.Detail != "suppressed by "+tc.s.Source+": "+tc.s.Reason {
			t.Errorf("%+v: %+v, want %s/%s", tc.s, a, tc.state, tc.just)
		}
	}
}
