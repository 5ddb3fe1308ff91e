package vuln

// Manifest is what a client posts to the indexer API to have an image
// indexed: the manifest digest and its layers with where to fetch them.
// It is Clair v4's claircore.Manifest on the wire.
type Manifest struct {
	Hash   string           `json:"hash"`
	Layers []*ManifestLayer `json:"layers"`
}

// ManifestLayer is one layer of a Manifest, bottom first. Headers are sent
// with the request for URI (a registry's "Authorization: Bearer ..."); they
// belong to the client and are never stored.
type ManifestLayer struct {
	Hash    string              `json:"hash"`
	URI     string              `json:"uri"`
	Headers map[string][]string `json:"headers"`
}
