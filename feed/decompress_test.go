package feed

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/openclair/clair/limit"
)

func compressed(t testing.TB, c Compression, b []byte) []byte {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch c {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		w, _ = zstd.NewWriter(&buf)
	case "xz":
		var err error
		if w, err = xz.NewWriter(&buf); err != nil {
			t.Fatal(err)
		}
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// bz2Hello is "hello\n" as bzip2 -9 writes it (Go has no bzip2 writer).
var bz2Hello = []byte("BZh91AY&SY\xc1\xc0\x80\xe2\x00\x00\x01A\x00\x00\x10\x02D\xa0\x000\xcd\x00\xc3F)\x97\x17rE8P\x90\xc1\xc0\x80\xe2")

func TestDecompress(t *testing.T) {
	doc := []byte(`{"hello": "world"}`)
	for _, c := range []Compression{"gzip", "zstd", "xz"} {
		r, got, err := Decompress(bytes.NewReader(compressed(t, c, doc)), 1<<20)
		if err != nil || got != c {
			t.Fatalf("%s: %v, %q", c, err, got)
		}
		b, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(b, doc) {
			t.Errorf("%s: %q, %v", c, b, err)
		}
		// Past the limit: an error, not a truncated document.
		r, _, _ = Decompress(bytes.NewReader(compressed(t, c, doc)), 5)
		if _, err := io.ReadAll(r); !errors.Is(err, limit.ErrTooLarge) {
			t.Errorf("%s over 5 bytes: %v, want ErrTooLarge", c, err)
		}
	}
	r, c, err := Decompress(bytes.NewReader(bz2Hello), 1<<20)
	if err != nil || c != "bzip2" {
		t.Fatalf("bzip2: %v, %q", err, c)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "hello\n" {
		t.Errorf("bzip2: %q, %v", b, err)
	}
	r, c, _ = Decompress(bytes.NewReader(doc), 1<<20)
	if b, _ := io.ReadAll(r); c != "" || !bytes.Equal(b, doc) {
		t.Errorf("plain: %q %q", c, b)
	}
	// A damaged stream is an error naming the format.
	bad := compressed(t, "gzip", doc)
	bad[len(bad)-5] ^= 0xff
	r, _, _ = Decompress(bytes.NewReader(bad), 1<<20)
	if _, err := io.ReadAll(r); err == nil {
		t.Error("damaged gzip: no error")
	}
}

func FuzzDecompress(f *testing.F) {
	doc := []byte(`{"a":[1,2,3]}`)
	for _, c := range []Compression{"gzip", "zstd", "xz"} {
		f.Add(compressed(f, c, doc))
	}
	f.Add(bz2Hello)
	f.Add(doc)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, err := Decompress(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		defer r.Close()
		n, _ := io.Copy(io.Discard, r)
		if n > 1<<16 {
			t.Fatalf("%d bytes out, over the limit", n)
		}
	})
}
