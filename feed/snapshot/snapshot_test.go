package snapshot

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	// A real feed document (the repository's Debian tracker excerpt).
	doc := filepath.Join("..", "..", "testdata", "feeds", "debian-bullseye-nginx.json")
	want, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.AddFile("debian/tracker.json", doc); err != nil {
		t.Fatal(err)
	}
	if err := w.Add("small.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := NewWriter(io.Discard).AddReader("short", 10, bytes.NewReader([]byte("abc"))); err == nil {
		t.Error("AddReader of 3 bytes for 10: no error")
	}
	if w.Len() != 2 {
		t.Errorf("Len %d", w.Len())
	}
	w.Close()
	snap := bytes.NewReader(buf.Bytes())
	if !IsTar(snap) {
		t.Fatal("IsTar false")
	}
	es, err := Entries(snap, int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) < 2 || es[0].Name != "debian/tracker.json" || es[1].Name != "small.json" {
		t.Fatalf("entries %+v", es)
	}
	got, _ := io.ReadAll(es[0].Data)
	if !bytes.Equal(got, want) {
		t.Error("document changed")
	}
	// Truncated: an error, not fewer entries.
	cut := buf.Bytes()[:len(buf.Bytes())/2]
	if _, err := Entries(bytes.NewReader(cut), int64(len(cut))); err == nil {
		t.Error("truncated snapshot: no error")
	}
	if IsTar(bytes.NewReader(want)) {
		t.Error("a JSON document taken for a tar")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Walk(ctx, snap, int64(buf.Len()), func(Entry) error { return nil }); err == nil {
		t.Error("cancelled walk: no error")
	}
}

func FuzzEntries(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Add("a.json", []byte(`{"a":1}`))
	w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := Entries(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Data.Size() > int64(len(b)) {
				t.Fatalf("entry %s of %d bytes in %d", e.Name, e.Data.Size(), len(b))
			}
		}
	})
}
