package imagetest

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"regexp"
	"testing"

	"github.com/openclair/clair/image"
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Validate checks what every image source must give the indexer, the same
// way for each (after go-containerregistry's validate package): a manifest
// digest; at least one layer; for each layer a well-formed digest (or a
// folder), an uncompressed stream that is a whole tar read to its end, and
// a DiffID, when the source knows one, equal to that stream's digest; a
// Close that can be called twice.
func Validate(t *testing.T, img *image.Image) {
	t.Helper()
	if !digestRE.MatchString(img.ManifestDigest) {
		t.Errorf("%s: manifest digest %q", img.Ref, img.ManifestDigest)
	}
	if len(img.Layers) == 0 {
		t.Fatalf("%s: no layers", img.Ref)
	}
	for i, l := range img.Layers {
		if l.Dir != "" {
			if l.Digest != "" {
				t.Errorf("%s: layer %d: a folder layer with digest %q", img.Ref, i, l.Digest)
			}
			continue
		}
		if !digestRE.MatchString(l.Digest) {
			t.Errorf("%s: layer %d: digest %q", img.Ref, i, l.Digest)
		}
		rc, err := l.Uncompressed(context.Background())
		if err != nil {
			t.Errorf("%s: layer %d (%s): %v", img.Ref, i, l.Digest, err)
			continue
		}
		h := sha256.New()
		tr := tar.NewReader(io.TeeReader(rc, h))
		entries := 0
		for {
			_, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s: layer %d (%s): not a whole tar after %d entries: %v", img.Ref, i, l.Digest, entries, err)
				break
			}
			entries++
		}
		io.Copy(io.Discard, tr) // the tar's end-of-archive blocks count for the DiffID
		io.Copy(h, rc)
		rc.Close()
		if l.DiffID != "" {
			if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != l.DiffID {
				t.Errorf("%s: layer %d (%s): DiffID %s, the stream's digest is %s", img.Ref, i, l.Digest, l.DiffID, got)
			}
		}
	}
	if err := img.Close(); err != nil {
		t.Errorf("%s: Close: %v", img.Ref, err)
	}
	if err := img.Close(); err != nil {
		t.Errorf("%s: second Close: %v", img.Ref, err)
	}
}
