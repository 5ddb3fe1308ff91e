package image

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	// klauspost's gzip inflates markedly faster than compress/gzip (about
	// 1.5-2x on layer tars), and decompression is most of the cost of
	// indexing a layer.
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Layer is one layer of an image.
type Layer struct {
	// Digest is the digest of the layer blob as the manifest names it
	// (compressed, usually); "" for a directory layer, which is never cached.
	Digest string
	// DiffID is the digest of the uncompressed tar, from the image config.
	DiffID string
	// Size is the blob size in bytes (for a directory: the regular files' total).
	Size int64
	// Dir is set only for dir: sources: the layer is this folder, to be
	// walked directly; it has no tar stream.
	Dir string

	open func(ctx context.Context) (io.ReadCloser, error)
}

// NewLayer makes a Layer whose blob open returns, compressed (gzip or zstd)
// or not: sources other than the built-in transports (a layer URL, a test)
// use it. open is called once per Uncompressed call.
func NewLayer(digest, diffID string, size int64, open func(ctx context.Context) (io.ReadCloser, error)) *Layer {
	return &Layer{Digest: digest, DiffID: diffID, Size: size, open: open}
}

// LayerError is an error reading a layer; it names the layer so that a
// failure deep in a decompressor still says which blob was bad.
type LayerError struct {
	Digest string // "" for a directory layer
	Err    error
}

func (e *LayerError) Error() string { return "layer " + e.Digest + ": " + e.Err.Error() }
func (e *LayerError) Unwrap() error { return e.Err }

// name is how errors refer to the layer.
func (l *Layer) name() string {
	if l.Digest != "" {
		return l.Digest
	}
	if l.Dir != "" {
		return l.Dir
	}
	return "(unnamed)"
}

// Compression formats Uncompressed recognises by their magic bytes.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// maxZstdWindow bounds the history a zstd stream may ask the decoder to
// keep: 128 MiB is what `zstd --long=27` uses, far above what image builders
// write; a hostile layer asking for more is refused rather than allocated.
const maxZstdWindow = 128 << 20

// readBufSize is large so that the decompressor reads the blob in few
// syscalls (or few HTTP body reads) instead of 4 KiB at a time.
const readBufSize = 1 << 20

// Uncompressed returns the layer's uncompressed tar stream, whether the blob
// is gzip, zstd or a plain tar (found by its magic bytes, not by the media
// type, which archives often get wrong). Read errors name the layer, as a
// *LayerError. When Read returns io.EOF the whole blob has been read and, for
// sources whose blob digest was not yet checked, verified: a reader that
// stops early (at the tar end-of-archive marker, say) must read on to EOF to
// learn that the blob was whole.
func (l *Layer) Uncompressed(ctx context.Context) (io.ReadCloser, error) {
	if l.open == nil {
		if l.Dir != "" {
			return nil, &LayerError{Digest: l.name(), Err: errors.New("a directory layer has no tar stream; walk Dir instead")}
		}
		return nil, &LayerError{Digest: l.name(), Err: errors.New("no way to open this layer")}
	}
	raw, err := l.open(ctx)
	if err != nil {
		return nil, &LayerError{Digest: l.name(), Err: err}
	}
	lr := &layerReader{ctx: ctx, name: l.name(), raw: raw}
	br := bufio.NewReaderSize(raw, readBufSize)
	lr.br = br
	magic, err := br.Peek(len(zstdMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		raw.Close()
		return nil, &LayerError{Digest: l.name(), Err: err}
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		lr.format = "gzip"
		zr, err := gzip.NewReader(br)
		if err != nil {
			raw.Close()
			return nil, &LayerError{Digest: l.name(), Err: fmt.Errorf("gzip: %w", err)}
		}
		lr.dec, lr.closeDec = zr, zr.Close
	case bytes.HasPrefix(magic, zstdMagic):
		lr.format = "zstd"
		// One decoding goroutine: layers are decoded in parallel already,
		// and the default would start several per layer.
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			raw.Close()
			return nil, &LayerError{Digest: l.name(), Err: fmt.Errorf("zstd: %w", err)}
		}
		lr.dec, lr.closeDec = zr, func() error { zr.Close(); return nil }
	default:
		lr.dec = br
	}
	return lr, nil
}

// layerReader is the decompressed stream of a layer blob.
type layerReader struct {
	ctx      context.Context
	name     string
	format   string // "gzip", "zstd" or "" for a plain tar
	raw      io.ReadCloser
	br       *bufio.Reader
	dec      io.Reader
	closeDec func() error
	err      error
}

func (r *layerReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	// An atomic load: cheap enough per read, and it stops a long layer
	// promptly when the index is canceled.
	if err := r.ctx.Err(); err != nil {
		r.err = &LayerError{Digest: r.name, Err: err}
		return 0, r.err
	}
	n, err := r.dec.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		// The decompressor may stop at the end of its stream: read the
		// rest of the blob so that a digest check on the raw stream runs.
		if _, derr := io.Copy(io.Discard, r.br); derr != nil {
			r.err = r.wrap(derr)
			return n, r.err
		}
		r.err = io.EOF
	default:
		r.err = r.wrap(err)
	}
	return n, r.err
}

func (r *layerReader) wrap(err error) error {
	var de *DigestError
	if r.format == "" || errors.As(err, &de) {
		return &LayerError{Digest: r.name, Err: err}
	}
	return &LayerError{Digest: r.name, Err: fmt.Errorf("%s: %w", r.format, err)}
}

func (r *layerReader) Close() error {
	var err error
	if r.closeDec != nil {
		err = r.closeDec()
	}
	if cerr := r.raw.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops a long read when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// DigestError says a blob's content does not match the digest it was
// named by.
type DigestError struct {
	Want, Got string
}

func (e *DigestError) Error() string {
	return "content does not match its digest: want " + e.Want + ", got " + e.Got
}

// verifier checks, when its stream ends, that what went through it has the
// digest the blob was named by: local archives and layouts name blobs but
// nothing checks them, and a layer's scan results are cached by that name.
type verifier struct {
	rc   io.ReadCloser
	h    hash.Hash
	want string
	done bool
}

// verifyDigest wraps rc so that reading it to the end fails unless its
// content has digest want; a digest with an algorithm other than sha256 is
// not checked.
func verifyDigest(rc io.ReadCloser, want string) io.ReadCloser {
	if !strings.HasPrefix(want, "sha256:") {
		return rc
	}
	return &verifier{rc: rc, h: sha256.New(), want: want}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) && !v.done {
		v.done = true
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, &DigestError{Want: v.want, Got: got}
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.rc.Close() }
