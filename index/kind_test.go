package index

import (
	"context"
	"strings"
	"testing"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/scanner"
)

// TestContentKind: a layer naming files outside the image root, or one
// that does not decode, is the layer's fault (BadContent, a 422), and the
// public message names the layer and the entry.
func TestContentKind(t *testing.T) {
	for _, l := range [][]ent{
		{file("../../etc/passwd", "x")},
		{file("/etc/x", "x")},
		{file("etc/a", "x"), hardlink("etc/b", "../../x")},
	} {
		ly := layerOf(t, l...)
		_, err := (&Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(context.Background(), imageOf(ly))
		if errkind.Of(err) != errkind.BadContent || !strings.HasPrefix(errkind.Public(err), "layer "+ly.Digest+": entry ") {
			t.Errorf("%v: kind %v, public %q", err, errkind.Of(err), errkind.Public(err))
		}
	}
	blob := gz(t, tarOf(t, file("etc/x", strings.Repeat("x", 100000))))
	bad := blobLayer(blob[:len(blob)/2])
	_, err := (&Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(context.Background(), imageOf(bad))
	if errkind.Of(err) != errkind.BadContent {
		t.Errorf("truncated gzip: kind %v (%v)", errkind.Of(err), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&Indexer{Scanners: []scanner.Scanner{&dpkgScanner{}}}).Index(ctx, imageOf(layerOf(t, file("etc/x", "x"))))
	if err != nil && errkind.Of(err) != errkind.Canceled {
		t.Errorf("canceled: kind %v (%v)", errkind.Of(err), err)
	}
}
