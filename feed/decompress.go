package feed

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/openclair/clair/limit"
)

// Compression names what Decompress recognized: "gzip", "bzip2", "xz",
// "zstd", or "" for bytes that are none of them.
type Compression string

// The magic numbers of the formats mirrors serve feeds in.
var magics = []struct {
	c     Compression
	magic []byte
}{
	{"gzip", []byte{0x1f, 0x8b}},
	{"bzip2", []byte("BZh")},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
}

// Sniff tells the compression of a document from its first bytes.
func Sniff(head []byte) Compression {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.c
		}
	}
	return ""
}

// Decompress returns a reader of r's content, decompressed when its first
// bytes are those of gzip (multi-member, as .gz mirrors concatenate),
// bzip2, xz or zstd, and r's bytes as they are otherwise. It fails, with
// limit.ErrTooLarge, once more than max bytes came out: a small bomb must
// not fill the disk or memory of whoever reads it. Close releases the
// decoder; it does not close r.
func Decompress(r io.Reader, max int64) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(6)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", err
	}
	c := Sniff(head)
	var (
		dr    io.Reader
		close = func() {}
	)
	switch c {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("gzip: %w", err)
		}
		dr, close = zr, func() { zr.Close() }
	case "bzip2":
		dr = bzip2.NewReader(br)
	case "xz":
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("xz: %w", err)
		}
		dr = xr
	case "zstd":
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, c, fmt.Errorf("zstd: %w", err)
		}
		dr, close = zr, zr.Close
	default:
		return io.NopCloser(limit.Reader(br, max)), "", nil
	}
	return &decoder{r: limit.Reader(dr, max), c: c, close: close}, c, nil
}

type decoder struct {
	r     io.Reader
	c     Compression
	close func()
}

func (d *decoder) Read(b []byte) (int, error) {
	n, err := d.r.Read(b)
	if err != nil && err != io.EOF && !errors.Is(err, limit.ErrTooLarge) {
		err = fmt.Errorf("%s: %w", d.c, err)
	} else if errors.Is(err, limit.ErrTooLarge) {
		err = fmt.Errorf("decompressed %s: %w", d.c, err)
	}
	return n, err
}

func (d *decoder) Close() error {
	d.close()
	return nil
}
