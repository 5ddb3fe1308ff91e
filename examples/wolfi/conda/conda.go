// Package conda is a scanner plugin written outside the clair module: it
// finds the packages of Conda environments from their `conda-meta/*.json`
// records (one file per installed package), which clair does not ship.
// Importing it registers the scanner "conda".
//
// Conda packages get the ecosystem "conda" and a pkg:conda package URL, so
// they appear in reports and SBOMs; no feed ships Conda advisories, so none
// is registered for their ecosystem and the matcher leaves them alone.
package conda

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// MaxSize bounds one conda-meta record: real ones list every file of the
// package and reach a few MB for large packages.
const MaxSize = 16 << 20

// Scanner reads conda-meta records.
type Scanner struct{}

var _ scanner.Scanner = Scanner{}

func init() { scanner.Register(Scanner{}) }

// Name implements scanner.Scanner.
func (Scanner) Name() string { return "conda" }

// Version implements scanner.Scanner: bump it when the output for the same
// file changes, and only the layers with conda-meta records are read again.
func (Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner: any environment's conda-meta folder
// (/opt/conda/conda-meta, /opt/conda/envs/x/conda-meta, ...).
func (Scanner) Wants(p string) bool {
	return strings.HasSuffix(p, ".json") && path.Base(path.Dir(p)) == "conda-meta"
}

// record is the part of a conda-meta record a package needs.
type record struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Build   string `json:"build"`
	Channel string `json:"channel"`
	Subdir  string `json:"subdir"`
	License string `json:"license"`
}

// Scan implements scanner.Scanner.
func (Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	b, err := limit.ReadAll(f.R, MaxSize)
	if err != nil {
		return nil, fmt.Errorf("conda: %s: %w", f.Path, err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		// One broken record is worth a note, not the layer's index.
		return &scanner.Result{Warnings: []string{fmt.Sprintf("conda: %s: %v", f.Path, err)}}, nil
	}
	if r.Name == "" || r.Version == "" {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("conda: %s: no name or version", f.Path)}}, nil
	}
	var q packageurl.Qualifiers
	if r.Build != "" {
		q = append(q, packageurl.Qualifier{Key: "build", Value: r.Build})
	}
	if r.Channel != "" {
		q = append(q, packageurl.Qualifier{Key: "channel", Value: r.Channel})
	}
	if r.Subdir != "" {
		q = append(q, packageurl.Qualifier{Key: "subdir", Value: r.Subdir})
	}
	return &scanner.Result{Packages: []*vuln.Package{{
		Name:      r.Name,
		Version:   r.Version,
		Kind:      vuln.KindBinary,
		Ecosystem: "conda",
		Purl:      packageurl.NewPackageURL("conda", "", r.Name, r.Version, q, "").ToString(),
		Path:      f.Path,
	}}}, nil
}
