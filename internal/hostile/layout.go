package hostile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteLayout writes an OCI image layout in dir (which clairctl scan reads
// as oci:DIR) of one layer per entry list, bottom first, streaming each
// layer to its blob.
func WriteLayout(dir string, layers ...[]Entry) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Size      int64  `json:"size"`
		Digest    string `json:"digest"`
	}
	var (
		descs   []desc
		diffIDs []string
	)
	for i, ents := range layers {
		tmp, err := os.CreateTemp(blobs, "layer-*")
		if err != nil {
			return err
		}
		h := sha256.New()
		cw := &counter{w: io.MultiWriter(tmp, h)}
		diff, err := layer(cw, ents)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("hostile: layer %d: %w", i, err)
		}
		d := hex.EncodeToString(h.Sum(nil))
		if err := os.Rename(tmp.Name(), filepath.Join(blobs, d)); err != nil {
			return err
		}
		descs = append(descs, desc{"application/vnd.oci.image.layer.v1.tar+gzip", cw.n, "sha256:" + d})
		diffIDs = append(diffIDs, diff)
	}
	put := func(v any) (desc, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return desc{}, err
		}
		s := sha256.Sum256(b)
		d := hex.EncodeToString(s[:])
		return desc{Size: int64(len(b)), Digest: "sha256:" + d}, os.WriteFile(filepath.Join(blobs, d), b, 0o644)
	}
	cfg, err := put(map[string]any{"os": "linux", "architecture": "amd64", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	if err != nil {
		return err
	}
	cfg.MediaType = "application/vnd.oci.image.config.v1+json"
	man, err := put(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": descs})
	if err != nil {
		return err
	}
	man.MediaType = "application/vnd.oci.image.manifest.v1+json"
	idx, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []any{man}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// HostDir is the files, folders and symlinks under root on this machine,
// named as in an image (root "/usr/share" gives "usr/share/..."); what
// cannot be read is left out. It makes the "normal image" of issue 11 from
// the host's /usr/share and /usr/bin.
func HostDir(root string) ([]Entry, error) {
	var out []Entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: left out
		}
		name := strings.TrimPrefix(filepath.ToSlash(p), "/")
		switch t := d.Type(); {
		case d.IsDir():
			out = append(out, Entry{Name: name + "/", Dir: true})
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err == nil {
				out = append(out, Symlink(name, target))
			}
		case t.IsRegular():
			st, err := d.Info()
			if err != nil {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			f.Close()
			out = append(out, Entry{Name: name, Size: st.Size(), Body: func() io.Reader {
				f, err := os.Open(p)
				if err != nil {
					return &errReader{err}
				}
				return &closingReader{f: f, n: st.Size()}
			}})
		}
		return nil
	})
	return out, err
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// closingReader reads n bytes of f (the size the header said, whatever
// the file does meanwhile) and closes it at the end.
type closingReader struct {
	f *os.File
	n int64
}

func (c *closingReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.f.Close()
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.f.Read(p)
	c.n -= int64(n)
	if err == io.EOF && c.n > 0 {
		c.f.Close()
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}
