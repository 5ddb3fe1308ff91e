// Package debian is the Debian security tracker feed: the tracker's JSON
// export (https://security-tracker.debian.org/tracker/data/json), one
// document of every source package's issues and their status per release.
package debian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/vuln"
)

// Name is the feed's name.
const Name = "debian"

// DefaultURL is the tracker's JSON export.
const DefaultURL = "https://security-tracker.debian.org/tracker/data/json"

// linkPrefix + id is the tracker's page of an issue.
const linkPrefix = "https://security-tracker.debian.org/tracker/"

func init() { feed.Register(New()) }

// Feed is the Debian security tracker feed.
type Feed struct{ feed.Document }

var _ feed.Feed = (*Feed)(nil)

// New returns the feed.
func New() *Feed { return &Feed{feed.Document{FeedName: Name, URL: DefaultURL}} }

// Parse implements feed.Feed. The document is walked token by token at the
// top level and decoded one source package at a time: the real export is
// tens of megabytes, and holding it whole (as a map) would cost several times
// that.
func (*Feed) Parse(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Advisory) error) error {
	dec := json.NewDecoder(io.NewSectionReader(snap, 0, size))
	if err := expectDelim(dec, '{'); err != nil {
		return fmt.Errorf("debian: offset %d: top level: %w", dec.InputOffset(), err)
	}
	seen := map[string]bool{}
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("debian: %w", err)
		}
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("debian: offset %d: reading a package name: %w", dec.InputOffset(), err)
		}
		pkg, _ := tok.(string) // object keys are always strings
		var issues map[string]json.RawMessage
		off := dec.InputOffset()
		if err := dec.Decode(&issues); err != nil {
			return fmt.Errorf("debian: package %q (offset %d): %w", pkg, off, err)
		}
		if pkg == "" {
			return fmt.Errorf("debian: offset %d: empty source package name", off)
		}
		// A repeated key would make the second copy silently win in a map
		// decoder; here it would emit duplicates, which the store may reject.
		if seen[pkg] {
			return fmt.Errorf("debian: package %q (offset %d): listed twice", pkg, off)
		}
		seen[pkg] = true
		if err := emitPackage(pkg, issues, emit); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fmt.Errorf("debian: offset %d: end of top level: %w", dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("debian: offset %d: data after the top-level object", dec.InputOffset())
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("got %v, want %q", tokenString(tok), string(want))
	}
	return nil
}

func tokenString(tok json.Token) string {
	if s, ok := tok.(string); ok {
		return fmt.Sprintf("string %q", s)
	}
	return fmt.Sprintf("%v", tok)
}

// issue is one tracker entry of a source package.
type issue struct {
	Description string `json:"description"`
	// scope, debianbug and the per-release repositories are not needed.
	Releases releases `json:"releases"`
}

// release is the issue's status in one release.
type release struct {
	Status       string `json:"status"`
	FixedVersion string `json:"fixed_version"`
	Urgency      string `json:"urgency"`
	// NoDSAReason is "ignored" (the security team will not fix it) or
	// "postponed" (a fix waits for a point release) on open issues.
	NoDSAReason string `json:"nodsa_reason"`
}

// releases decodes the "releases" object release by release, so that a bad
// field is reported with the codename it belongs to. The tracker writes an
// empty PHP-style array ("releases": []) for issues of removed packages.
type releases map[string]release

func (r *releases) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var empty []json.RawMessage
		if err := json.Unmarshal(b, &empty); err != nil {
			return fmt.Errorf("releases: %w", err)
		}
		if len(empty) != 0 {
			return errors.New("releases: a non-empty array, want an object")
		}
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("releases: %w", err)
	}
	out := make(releases, len(raw))
	for name, v := range raw {
		var rel release
		if err := json.Unmarshal(v, &rel); err != nil {
			return fmt.Errorf("releases: %s: %w", name, err)
		}
		out[name] = rel
	}
	*r = out
	return nil
}

func emitPackage(pkg string, issues map[string]json.RawMessage, emit func(*vuln.Advisory) error) error {
	ids := make([]string, 0, len(issues))
	for id := range issues {
		ids = append(ids, id)
	}
	sort.Strings(ids) // map order is random; output should not be
	for _, id := range ids {
		var is issue
		if err := json.Unmarshal(issues[id], &is); err != nil {
			return fmt.Errorf("debian: package %q: %s: %w", pkg, id, err)
		}
		if id == "" {
			return fmt.Errorf("debian: package %q: empty issue id", pkg)
		}
		codenames := make([]string, 0, len(is.Releases))
		for c := range is.Releases {
			codenames = append(codenames, c)
		}
		sort.Strings(codenames)
		done := map[string]bool{}
		for _, c := range codenames {
			a := advisory(pkg, id, &is, c, is.Releases[c])
			if a == nil {
				continue
			}
			// Two spellings of one release ("sid" and "unstable") must
			// not give two statements: the first, in sorted order, wins.
			if done[a.Namespace] {
				continue
			}
			done[a.Namespace] = true
			if err := emit(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// advisory maps one (package, issue, release) triple, or returns nil when
// there is nothing to say: an unknown release (no image can be in its
// namespace, e.g. a codename newer than vuln knows) or an unknown status.
func advisory(pkg, id string, is *issue, codename string, r release) *vuln.Advisory {
	rel, ok := vuln.DebianRelease(codename)
	if !ok {
		return nil
	}
	sev := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(r.Urgency), "*"))
	a := &vuln.Advisory{
		Name:               id,
		Namespace:          "debian:" + rel,
		Package:            pkg,
		VersionFormat:      "dpkg",
		Severity:           sev,
		NormalizedSeverity: normalize(sev),
		Description:        is.Description,
		Links:              []string{linkPrefix + id},
	}
	switch r.Status {
	case "resolved":
		switch r.FixedVersion {
		case "":
			// "Resolved" without a version says nothing usable.
			return nil
		case "0":
			// The tracker's way of saying the release never had the bug.
			a.State = vuln.StateNotAffected
		default:
			a.State = vuln.StateAffected
			a.Ranges = []vuln.Range{{Fixed: r.FixedVersion}}
			a.FixedIn = r.FixedVersion
		}
	case "open", "undetermined":
		a.State = vuln.StateUnfixed
		if r.Status == "open" && r.NoDSAReason == "ignored" {
			// <ignored>: the security team decided not to fix it in
			// this release.
			a.State = vuln.StateWontFix
		}
	default:
		// A status this code does not know: better silent than wrong.
		return nil
	}
	return a
}

// normalize maps the tracker's urgency to Clair's scale.
func normalize(urgency string) vuln.Severity {
	switch strings.ToLower(urgency) {
	case "unimportant":
		return vuln.Negligible
	case "low":
		return vuln.Low
	case "medium":
		return vuln.Medium
	case "high":
		return vuln.High
	}
	// "not yet assigned", "end-of-life", "" and anything new.
	return vuln.Unknown
}
