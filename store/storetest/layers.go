package storetest

import (
	"bytes"
	"testing"

	"github.com/openclair/clair/store"
)

func testLayerScan(t *testing.T, s store.Store) {
	ctx := t.Context()
	const layer = "sha256:aaaa"
	if _, ok, err := s.LayerScan(ctx, layer, "dpkg", "1"); err != nil || ok {
		t.Fatalf("LayerScan of a layer never scanned: ok=%v err=%v, want false, nil", ok, err)
	}
	put := func(layer, scanner, version string, data []byte) {
		t.Helper()
		if err := s.PutLayerScan(ctx, layer, scanner, version, data); err != nil {
			t.Fatalf("PutLayerScan(%q, %q, %q): %v", layer, scanner, version, err)
		}
	}
	get := func(layer, scanner, version string, want []byte, wantOK bool) {
		t.Helper()
		got, ok, err := s.LayerScan(ctx, layer, scanner, version)
		if err != nil {
			t.Fatalf("LayerScan(%q, %q, %q): %v", layer, scanner, version, err)
		}
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("LayerScan(%q, %q, %q) = %q, %v; want %q, %v", layer, scanner, version, got, ok, want, wantOK)
		}
	}
	put(layer, "dpkg", "1", []byte(`{"packages":[1]}`))
	get(layer, "dpkg", "1", []byte(`{"packages":[1]}`), true)
	// Another scanner version or scanner is another scan.
	get(layer, "dpkg", "2", nil, false)
	get(layer, "apk", "1", nil, false)
	get("sha256:bbbb", "dpkg", "1", nil, false)
	put(layer, "dpkg", "2", []byte("v2"))
	get(layer, "dpkg", "1", []byte(`{"packages":[1]}`), true)
	get(layer, "dpkg", "2", []byte("v2"), true)
	// Replace.
	put(layer, "dpkg", "1", []byte("again"))
	get(layer, "dpkg", "1", []byte("again"), true)
	// Empty data is a scan that found nothing, not a missing scan.
	put(layer, "distro", "1", nil)
	get(layer, "distro", "1", nil, true)
	put(layer, "distro", "1", []byte{})
	get(layer, "distro", "1", []byte{}, true)
	// Binary data and odd keys.
	bin := []byte{0, 1, 2, 0xff, 0xfe, 0}
	put("", "", "", bin)
	get("", "", "", bin, true)
	put("sha256:ü'\"%?", "scänner", "版本", bin)
	get("sha256:ü'\"%?", "scänner", "版本", bin, true)
}
