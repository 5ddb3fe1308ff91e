// Package date reads the dates feeds write, in the layouts they use.
package date

import (
	"strings"
	"time"
)

// layouts are tried in order: RFC 3339 (Microsoft, OSV), "2019-10-23"
// (Oracle, Photon, SUSE), updateinfo's "2023-09-15 20:55:00" and older
// "2018-01-05 02:39" (Amazon). They do not overlap, so the order only
// saves time.
var layouts = []string{time.RFC3339, "2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// Parse returns the UTC time s says, or the zero time for an empty or
// unknown date: a missing issue date is not worth failing a feed.
func Parse(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
