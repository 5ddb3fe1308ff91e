package debian

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/limit"
)

// TestCompressedTracker fetches the real tracker JSON as mirrors serve it,
// gzip-compressed, through file:// and HTTP, and the same document in
// bzip2, xz and zstd made here from it: the snapshot is the JSON itself
// each time, and Parse reads it. (Before, a .json.gz failed with
// "invalid character '\x1f'".)
func TestCompressedTracker(t *testing.T) {
	if raceEnabled {
		t.Skip("race: 8 fetches of the 30 MB tracker take minutes; feed.TestDecompress covers the decoders under race")
	}
	gzPath := sharedtest.Path(t, "feeds/debian/tracker-json-from-osv.json.gz")
	gzBytes, err := os.ReadFile(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gzBytes))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(plain)
	ctx := context.Background()

	// gzip, the real file, through file://.
	var snap bytes.Buffer
	fp, err := New().Fetch(ctx, nil, "file://"+gzPath, "", &snap)
	if err != nil {
		t.Fatalf("fetch %s: %v", gzPath, err)
	}
	if sha256.Sum256(snap.Bytes()) != want {
		t.Fatalf("file:// gzip: snapshot is not the decompressed document (%d bytes, want %d)", snap.Len(), len(plain))
	}
	advs, err := parseBytes(t, snap.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) < 1000 {
		t.Fatalf("%d advisories from the real tracker, want thousands", len(advs))
	}
	// Unchanged is still told from the bytes as served.
	if _, err := New().Fetch(ctx, nil, "file://"+gzPath, fp, io.Discard); !errors.Is(err, feed.ErrUnchanged) {
		t.Errorf("second fetch: %v, want ErrUnchanged", err)
	}

	docs := map[string][]byte{"json.gz": gzBytes}
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	zw.Write(plain)
	zw.Close()
	docs["json.zst"] = zb.Bytes()
	var xb bytes.Buffer
	xw, err := xz.NewWriter(&xb)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(plain)
	xw.Close()
	docs["json.xz"] = xb.Bytes()
	if bz, err := exec.LookPath("bzip2"); err == nil {
		cmd := exec.Command(bz, "-c", "-1")
		cmd.Stdin = bytes.NewReader(plain)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		docs["json.bz2"] = out
	} else {
		t.Log("no bzip2 program (Go has no bzip2 writer): bzip2 not tried")
	}
	dir := t.TempDir()
	for name, b := range docs {
		if err := os.WriteFile(filepath.Join(dir, "tracker."+name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	for name := range docs {
		for _, u := range []string{"file://" + filepath.Join(dir, "tracker."+name), srv.URL + "/tracker." + name} {
			var snap bytes.Buffer
			if _, err := New().Fetch(ctx, srv.Client(), u, "", &snap); err != nil {
				t.Errorf("%s: %v", u, err)
				continue
			}
			if sha256.Sum256(snap.Bytes()) != want {
				t.Errorf("%s: snapshot is not the decompressed document (%d bytes, want %d)", u, snap.Len(), len(plain))
			}
		}
	}
}

// TestCompressedBomb: a small zstd document that decompresses past
// feed.MaxBodySize is refused, not written whole.
func TestCompressedBomb(t *testing.T) {
	old := feed.MaxBodySize
	feed.MaxBodySize = 1 << 20
	defer func() { feed.MaxBodySize = old }()
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	zw.Write(bytes.Repeat([]byte("{}"), 8<<20))
	zw.Close()
	p := filepath.Join(t.TempDir(), "bomb.json.zst")
	if err := os.WriteFile(p, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	_, err := New().Fetch(context.Background(), nil, p, "", &snap)
	if !errors.Is(err, limit.ErrTooLarge) {
		t.Fatalf("fetch of a %d byte zstd of 16 MiB: %v, want ErrTooLarge", zb.Len(), err)
	}
	if int64(snap.Len()) > feed.MaxBodySize {
		t.Errorf("%d bytes written, over the %d byte limit", snap.Len(), feed.MaxBodySize)
	}
}
