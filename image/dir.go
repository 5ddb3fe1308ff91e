package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// openDir makes a one-layer image of a root filesystem folder. Its identity
// is a digest of the tree listing, so that an unchanged folder keeps the same
// ManifestDigest without its contents being read.
func openDir(ctx context.Context, p string) (*Image, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", abs)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fsys := root.FS()
	h := sha256.New()
	var total int64
	var buf []byte
	err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		buf = buf[:0]
		buf = strconv.AppendQuote(buf, name)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, info.Size(), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendUint(buf, uint64(info.Mode()), 8)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, info.ModTime().UnixNano(), 10)
		if info.Mode()&fs.ModeSymlink != 0 {
			t, err := root.Readlink(name)
			if err != nil {
				return err
			}
			buf = append(buf, " -> "...)
			buf = strconv.AppendQuote(buf, t)
		}
		buf = append(buf, '\n')
		h.Write(buf)
		if info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Image{
		ManifestDigest: "sha256:" + hex.EncodeToString(h.Sum(nil)),
		Layers:         []*Layer{{Dir: abs, Size: total}},
	}, nil
}
