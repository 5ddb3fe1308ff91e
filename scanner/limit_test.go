package scanner

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestLimitReader(t *testing.T) {
	for _, tt := range []struct {
		size, limit int64
		fail        bool
	}{{0, 0, false}, {10, 10, false}, {11, 10, true}, {1 << 20, 1 << 20, false}, {1<<20 + 1, 1 << 20, true}} {
		_, err := io.Copy(io.Discard, LimitReader(bytes.NewReader(make([]byte, tt.size)), tt.limit))
		if got := errors.Is(err, ErrTooLarge); got != tt.fail {
			t.Errorf("size %d, limit %d: err %v, want failure %v", tt.size, tt.limit, err, tt.fail)
		}
	}
}

func TestClip(t *testing.T) {
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	long := string(bytes.Repeat([]byte("é"), 100))
	if got := Clip(long); len(got) > 70 || got[len(got)-3:] != "…" {
		t.Errorf("Clip(long) = %q", got)
	}
}
