package limit

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadAll(t *testing.T) {
	b, err := ReadAll(strings.NewReader("12345"), 5)
	if err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	b, err = ReadAll(strings.NewReader("123456"), 5)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("past the limit: %q, %v; want ErrTooLarge", b, err)
	}
	if len(b) > 5 {
		t.Fatalf("past the limit: %d bytes let through", len(b))
	}
	if !strings.Contains(err.Error(), "5 B") {
		t.Fatalf("error %q does not name the limit", err)
	}
}

func TestReaderSmallReads(t *testing.T) {
	r := Reader(strings.NewReader("abcdef"), 3)
	var got []byte
	buf := make([]byte, 1)
	var err error
	for err == nil {
		var n int
		n, err = r.Read(buf)
		got = append(got, buf[:n]...)
	}
	if !errors.Is(err, ErrTooLarge) || string(got) != "abc" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := Writer(&buf, 4)
	if _, err := io.WriteString(w, "abcd"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "e"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("write past the limit: %v", err)
	}
	if buf.String() != "abcd" {
		t.Fatalf("wrote %q", buf.String())
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 64 << 10: "64 KiB", 3 << 29: "1.5 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
