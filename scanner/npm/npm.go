// Package npm finds the npm packages installed in node_modules folders, local
// or global (usr/local/lib/node_modules), from the package.json at the top of
// each package folder.
package npm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/vuln"
)

// Ecosystem is the vuln.Package Ecosystem of what this scanner finds.
const Ecosystem = "npm"

// MaxSize bounds one package.json. Published ones are a few KiB (npm strips
// the readme); larger files are skipped with a warning, unread.
const MaxSize = 8 << 20

// Scanner is the npm package scanner. Its zero value is ready to use.
type Scanner struct{}

var _ scanner.Scanner = (*Scanner)(nil)

func init() { scanner.Register(&Scanner{}) }

// Name implements scanner.Scanner.
func (*Scanner) Name() string { return "npm" }

// Version implements scanner.Scanner.
func (*Scanner) Version() string { return "1" }

// Kind implements scanner.Scanner.
func (*Scanner) Kind() scanner.Kind { return scanner.KindPackage }

// Wants implements scanner.Scanner: node_modules/NAME/package.json and
// node_modules/@SCOPE/NAME/package.json, under the last node_modules of the
// path (so nested installs and pnpm's node_modules/.pnpm/X/node_modules/X
// count), and not the package.json files of a package's own subfolders
// (test fixtures, "type": "module" markers).
func (*Scanner) Wants(p string) bool {
	rest, ok := strings.CutSuffix(p, "/package.json")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, "node_modules/")
	if i < 0 || (i > 0 && rest[i-1] != '/') {
		return false
	}
	pkg := rest[i+len("node_modules/"):]
	scope, name, scoped := strings.Cut(pkg, "/")
	if !scoped {
		return validSegment(pkg) && pkg[0] != '@'
	}
	return len(scope) > 1 && scope[0] == '@' && validSegment(scope[1:]) &&
		validSegment(name) && name[0] != '@' && !strings.Contains(name, "/")
}

// validSegment reports whether s can be one part of a package name: not
// empty, not a dot folder (.bin, .pnpm, .cache).
func validSegment(s string) bool {
	return s != "" && s[0] != '.' && s != "node_modules"
}

// packageJSON is the part of package.json the scanner reads.
type packageJSON struct {
	Name    json.RawMessage `json:"name"`
	Version json.RawMessage `json:"version"`
	Private json.RawMessage `json:"private"`
}

// Scan implements scanner.Scanner.
func (*Scanner) Scan(ctx context.Context, f scanner.File) (*scanner.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("npm: %s: %w", f.Path, err)
	}
	warn := func(format string, args ...any) (*scanner.Result, error) {
		return &scanner.Result{Warnings: []string{fmt.Sprintf("npm: %s: ", f.Path) + fmt.Sprintf(format, args...)}}, nil
	}
	if f.Size > MaxSize {
		return warn("skipped: %d bytes, more than the %d a package.json may have", f.Size, MaxSize)
	}
	if f.R == nil {
		return &scanner.Result{}, nil
	}
	br := bufio.NewReader(limit.Reader(f.R, MaxSize))
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	var pj packageJSON
	if err := json.NewDecoder(br).Decode(&pj); err != nil {
		if errors.Is(err, limit.ErrTooLarge) {
			return warn("skipped: more than the %d bytes a package.json may have", MaxSize)
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return warn("not a package.json: %v", err)
		}
		return nil, fmt.Errorf("npm: %s: %w", f.Path, err)
	}
	name, nameOK := jsonString(pj.Name)
	version, versionOK := jsonString(pj.Version)
	if !nameOK || !versionOK {
		return warn("name and version are not strings")
	}
	if name == "" || version == "" {
		if isTrue(pj.Private) {
			// A workspace or application root: nothing published.
			return &scanner.Result{}, nil
		}
		return warn("no name or no version")
	}
	return &scanner.Result{Packages: []*vuln.Package{{
		Name:      name,
		Version:   version,
		Kind:      vuln.KindBinary,
		Ecosystem: Ecosystem,
		Purl:      Purl(name, version),
		Path:      f.Path,
		PackageDB: f.Path,
	}}}, nil
}

// jsonString decodes a JSON string; absent and null are the empty string.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return strings.TrimSpace(s), true
}

func isTrue(raw json.RawMessage) bool {
	var b bool
	return json.Unmarshal(raw, &b) == nil && b
}

// Purl is the package URL of an npm package: pkg:npm/lodash@4.17.20,
// pkg:npm/%40babel/core@7.23.0.
func Purl(name, version string) string {
	ns, n := "", name
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, n = name[:i], name[i+1:]
		}
	}
	return packageurl.NewPackageURL(packageurl.TypeNPM, ns, n, version, nil, "").ToString()
}
