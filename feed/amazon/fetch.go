package amazon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/internal/redact"
	"github.com/openclair/clair/limit"
)

// The fetch chain: mirror list → repomd.xml → updateinfo.

// located is where a release's updateinfo is, and what identifies it.
type located struct {
	url      string
	checksum string // repomd's sha256 of the compressed file; "" when unknown
}

// Fetch implements feed.Feed. Each release costs a mirror list and a
// repomd.xml request; the fingerprint is the updateinfo checksums repomd.xml
// gives (a direct updateinfo URL is fingerprinted by feed.Get), so an
// unchanged feed is found without downloading updateinfo. The snapshot is a
// tar of RELEASE/updateinfo.xml[.gz], each as served and checked against
// repomd's checksum.
func (f *Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	rels, err := parseReleases(rawURL)
	if err != nil {
		return "", err
	}
	prevFP := map[string]string{}
	if prev != "" && json.Unmarshal([]byte(prev), &prevFP) != nil {
		prevFP = map[string]string{}
	}
	locs := make([]located, len(rels))
	fps := map[string]string{}
	for i, r := range rels {
		loc, err := locate(ctx, c, r.url)
		if err != nil {
			return "", fmt.Errorf("amazon: %s: %w", r.name, err)
		}
		locs[i] = loc
		if loc.checksum != "" {
			fps[r.name] = "sha256:" + loc.checksum
		}
	}
	tmp, err := feed.MkdirTemp("", "amazon")
	if err != nil {
		return "", fmt.Errorf("amazon: %w", err)
	}
	defer os.RemoveAll(tmp)
	changed := len(prevFP) != len(rels)
	files := make([]string, len(rels))
	for i, r := range rels {
		if fps[r.name] != "" {
			changed = changed || fps[r.name] != prevFP[r.name]
			continue
		}
		// No checksum to compare: download now, feed.Get fingerprints it.
		files[i] = filepath.Join(tmp, r.name)
		fp, err := download(ctx, c, locs[i], prevFP[r.name], files[i])
		switch {
		case errors.Is(err, feed.ErrUnchanged):
			files[i] = ""
			fps[r.name] = prevFP[r.name]
		case err != nil:
			return "", fmt.Errorf("amazon: %s: %w", r.name, err)
		default:
			fps[r.name] = fp
			changed = true
		}
	}
	if !changed {
		return "", feed.ErrUnchanged
	}
	sw := snapshot.NewWriter(dst)
	for i, r := range rels {
		if files[i] == "" {
			files[i] = filepath.Join(tmp, r.name)
			fp, err := download(ctx, c, locs[i], "", files[i])
			if err != nil {
				return "", fmt.Errorf("amazon: %s: %w", r.name, err)
			}
			if locs[i].checksum == "" {
				fps[r.name] = fp
			}
		}
		name := r.name + "/updateinfo.xml"
		if strings.HasSuffix(locs[i].url, ".gz") {
			name += ".gz"
		}
		if err := sw.AddFile(name, files[i]); err != nil {
			return "", fmt.Errorf("amazon: writing snapshot: %w", err)
		}
	}
	if err := sw.Close(); err != nil {
		return "", fmt.Errorf("amazon: writing snapshot: %w", err)
	}
	b, _ := json.Marshal(fps)
	return string(b), nil
}

// download fetches the updateinfo and checks it against repomd's checksum.
func download(ctx context.Context, c *http.Client, loc located, prev, file string) (string, error) {
	out, err := os.Create(file)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fp, err := feed.GetRaw(ctx, c, loc.url, prev, io.MultiWriter(out, h))
	if cerr := out.Close(); err == nil && cerr != nil {
		return "", cerr
	}
	if err != nil {
		return "", err
	}
	if loc.checksum != "" && !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), loc.checksum) {
		// A mirror caught mid-sync serves a repomd.xml and an updateinfo
		// of different generations; a retry later gets a consistent pair.
		return "", fmt.Errorf("%s: sha256 %x, repomd.xml says %s", redact.URL(loc.url), h.Sum(nil), loc.checksum)
	}
	return fp, nil
}

// getSmall reads a small document (mirror list, repomd.xml) into memory.
func getSmall(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := feed.Get(ctx, c, u, "", limit.Writer(&buf, maxSmall)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// locate follows a release URL to its updateinfo.
func locate(ctx context.Context, c *http.Client, u string) (located, error) {
	base := strings.TrimSuffix(strings.TrimSuffix(u, ".gz"), "/")
	switch {
	case strings.HasSuffix(base, ".xml"):
		return located{url: u}, nil
	case strings.HasSuffix(u, "mirror.list"):
		b, err := getSmall(ctx, c, u)
		if err != nil {
			return located{}, err
		}
		m, err := firstMirror(b)
		if err != nil {
			return located{}, fmt.Errorf("%s: %w", redact.URL(u), err)
		}
		return fromRepo(ctx, c, m)
	}
	return fromRepo(ctx, c, u)
}

// firstMirror returns the first URL of a mirror list.
func firstMirror(b []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if pu, err := url.Parse(l); err == nil && (pu.Scheme == "http" || pu.Scheme == "https" || pu.Scheme == "file") {
			return l, nil
		}
		return "", fmt.Errorf("mirror list line %q is not a URL", l)
	}
	return "", errors.New("empty mirror list")
}

// repomd is the part of repodata/repomd.xml the feed reads.
type repomd struct {
	Data []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
	} `xml:"data"`
}

// fromRepo reads a repository's repomd.xml for its updateinfo.
func fromRepo(ctx context.Context, c *http.Client, root string) (located, error) {
	if p, ok := feed.FilePath(root); ok {
		root = (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
	}
	base, err := url.Parse(root)
	if err != nil {
		return located{}, err
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		base.RawPath = ""
	}
	mdURL := base.ResolveReference(&url.URL{Path: "repodata/repomd.xml"})
	b, err := getSmall(ctx, c, mdURL.String())
	if err != nil {
		return located{}, err
	}
	var md repomd
	if err := xml.Unmarshal(b, &md); err != nil {
		return located{}, fmt.Errorf("%s: %w", mdURL.Redacted(), err)
	}
	for _, d := range md.Data {
		if d.Type != "updateinfo" {
			continue
		}
		href := strings.TrimSpace(d.Location.Href)
		if href == "" {
			return located{}, fmt.Errorf("%s: updateinfo without a location", mdURL.Redacted())
		}
		ref, err := url.Parse(href)
		if err != nil || ref.IsAbs() || ref.Host != "" || strings.HasPrefix(ref.Path, "/") || slices.Contains(strings.Split(ref.Path, "/"), "..") {
			// A location outside the repository is not something a
			// mirror may point a scanner at.
			return located{}, fmt.Errorf("%s: updateinfo location %q is not a path inside the repository", mdURL.Redacted(), href)
		}
		loc := located{url: base.ResolveReference(ref).String()}
		if strings.EqualFold(d.Checksum.Type, "sha256") {
			loc.checksum = strings.ToLower(strings.TrimSpace(d.Checksum.Value))
		}
		return loc, nil
	}
	return located{}, fmt.Errorf("%s: no updateinfo data", mdURL.Redacted())
}
