package feed

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"

	"github.com/openclair/clair/limit"
)

// TestMaybeGunzipBound: a small gzip that expands past MaxDecompressed (a
// gzip bomb) fails instead of running on; plain bytes pass through.
func TestMaybeGunzipBound(t *testing.T) {
	old := MaxDecompressed
	MaxDecompressed = 1 << 20
	defer func() { MaxDecompressed = old }()
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 8<<20))
	zw.Close()
	if bomb.Len() > 64<<10 {
		t.Fatalf("bomb of %d bytes", bomb.Len())
	}
	r, err := MaybeGunzip(&bomb)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, limit.ErrTooLarge) || n > MaxDecompressed {
		t.Errorf("read %d bytes, err %v; want ErrTooLarge at %d", n, err, MaxDecompressed)
	}
	r, err = MaybeGunzip(bytes.NewReader([]byte("cve,epss,percentile\n")))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "cve,epss,percentile\n" {
		t.Errorf("plain bytes changed: %q", b)
	}
	r, err = MaybeGunzip(bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); len(b) != 0 {
		t.Errorf("empty input gave %q", b)
	}
}
