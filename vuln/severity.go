package vuln

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity is Clair's normalized severity scale.
type Severity int

// The scale, least severe first, so that severities compare with < and >.
const (
	Unknown Severity = iota
	Negligible
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"Unknown", "Negligible", "Low", "Medium", "High", "Critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "Unknown"
	}
	return severityNames[s]
}

// ParseSeverity reads a normalized severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(n, s) {
			return Severity(i), nil
		}
	}
	return Unknown, fmt.Errorf("vuln: unknown severity %q (want one of %s)", s, strings.Join(severityNames[:], ", "))
}

// MarshalJSON writes the name, as Clair does.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a name; an unknown name reads as Unknown.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var n string
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("vuln: severity: %w", err)
	}
	v, err := ParseSeverity(n)
	if err != nil {
		v = Unknown
	}
	*s = v
	return nil
}
