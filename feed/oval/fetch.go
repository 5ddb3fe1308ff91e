package oval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/snapshot"
	"github.com/openclair/clair/internal/redact"
)

// source is one document to fetch.
type source struct{ name, url string }

// sources lists the documents rawURL stands for.
func (f *Feed) sources(rawURL string) ([]source, error) {
	if p, ok := feed.FilePath(rawURL); ok {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		if !fi.IsDir() {
			return []source{{filepath.Base(p), rawURL}}, nil
		}
		var out []source
		for _, n := range f.Distro.Files {
			out = append(out, source{n, filepath.Join(p, n)})
		}
		return out, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if !strings.HasSuffix(u.Path, "/") {
		return []source{{path.Base(u.Path), rawURL}}, nil
	}
	var out []source
	for _, n := range f.Distro.Files {
		out = append(out, source{n, u.ResolveReference(&url.URL{Path: n}).String()})
	}
	return out, nil
}

// Fetch implements feed.Feed. The fingerprint is a JSON object of each
// document's feed.Get fingerprint (ETag, Last-Modified, SHA-256): when every
// document is unchanged Fetch returns feed.ErrUnchanged after one
// conditional request each; when one changed, the others are downloaded
// again, since the snapshot holds them all.
func (f *Feed) Fetch(ctx context.Context, c *http.Client, rawURL, prev string, dst io.Writer) (string, error) {
	name := f.Name()
	srcs, err := f.sources(rawURL)
	if err != nil {
		return "", err
	}
	prevFP := map[string]string{}
	if prev != "" && json.Unmarshal([]byte(prev), &prevFP) != nil {
		prevFP = map[string]string{}
	}
	tmp, err := feed.MkdirTemp("", "oval")
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer os.RemoveAll(tmp)

	type got struct {
		source
		file      string
		fp        string
		unchanged bool
	}
	var (
		gots    []*got
		fps     = map[string]string{}
		changed bool
	)
	for i, s := range srcs {
		g := &got{source: s, file: filepath.Join(tmp, fmt.Sprint(i))}
		fp, err := getFile(ctx, c, s.url, prevFP[s.name], g.file)
		switch {
		case errors.Is(err, feed.ErrUnchanged):
			g.unchanged, g.fp = true, prevFP[s.name]
		case feed.IsNotExist(err) && len(srcs) > 1:
			// A release the vendor does not (or no longer) publish.
			changed = changed || prevFP[s.name] != ""
			continue
		case err != nil:
			return "", fmt.Errorf("%s: %s: %w", name, s.name, err)
		default:
			g.fp = fp
			changed = true
		}
		fps[s.name] = g.fp
		gots = append(gots, g)
	}
	if len(gots) == 0 {
		return "", fmt.Errorf("%s: %s: none of the documents %s is there", name, redact.URL(rawURL), strings.Join(f.Distro.Files, ", "))
	}
	for k := range prevFP {
		if _, ok := fps[k]; !ok {
			changed = true // a document went away
		}
	}
	if !changed {
		return "", feed.ErrUnchanged
	}
	sw := snapshot.NewWriter(dst)
	for _, g := range gots {
		if g.unchanged {
			fp, err := getFile(ctx, c, g.url, "", g.file)
			if err != nil {
				return "", fmt.Errorf("%s: %s: %w", name, g.name, err)
			}
			fps[g.name] = fp
		}
		if err := sw.AddFile(g.name, g.file); err != nil {
			return "", fmt.Errorf("%s: writing snapshot: %w", name, err)
		}
	}
	if err := sw.Close(); err != nil {
		return "", fmt.Errorf("%s: writing snapshot: %w", name, err)
	}
	b, _ := json.Marshal(fps)
	return string(b), nil
}

func getFile(ctx context.Context, c *http.Client, u, prev, dst string) (string, error) {
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	fp, err := feed.GetRaw(ctx, c, u, prev, out)
	if cerr := out.Close(); err == nil && cerr != nil {
		return "", cerr
	}
	return fp, err
}
