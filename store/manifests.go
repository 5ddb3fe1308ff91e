package store

import "time"

// ManifestInfo names one stored index report and when it was written.
// Both stores list them with Manifests(ctx, limit), newest first, for the
// web page's list of indexed images; it is not part of Store, so that other
// implementations need not have it (the page says so when one lacks it).
type ManifestInfo struct {
	Manifest  string
	UpdatedAt time.Time
}
