package store

import "time"

// ManifestInfo names one stored index report and when it was written.
// IndexReports.Manifests lists them, newest first, for the web page's list
// of indexed images.
type ManifestInfo struct {
	Manifest  string
	UpdatedAt time.Time
}
