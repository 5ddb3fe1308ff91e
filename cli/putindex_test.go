package cli

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// failingPut is a store whose PutIndexReport fails.
type failingPut struct{ store.Store }

var errPut = errors.New("put index report: disk full")

func (failingPut) PutIndexReport(context.Context, *vuln.IndexReport) error { return errPut }

// TestScanStoresIndexReport: scan stores the index report while it matches
// (see scanImage); when it returns, the report is stored, and a store that
// fails to keep it fails the scan with its error.
func TestScanStoresIndexReport(t *testing.T) {
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "clair.db")
	g := &globals{db: db, quiet: true, stdout: io.Discard, stderr: io.Discard}
	img := "docker-archive:" + filepath.Join(root, "testdata/images/alpine-3.18.9.tar")
	ff := feedFlags{only: []string{"alpine"}, feeds: []string{"alpine=file://" + filepath.Join(root, "testdata/feeds/alpine")}}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	vr, _, _, err := scanImage(ctx, g, st, img, "", ff, false, false)
	if err != nil {
		t.Fatal(err)
	}
	ir, err := st.IndexReport(ctx, vr.ManifestHash)
	if err != nil || len(ir.Packages) != len(vr.Packages) {
		t.Fatalf("stored index report: %v (%v)", ir, err)
	}

	if _, _, _, err := scanImage(ctx, g, failingPut{st}, img, "", ff, true, false); !errors.Is(err, errPut) {
		t.Fatalf("scan with a failing store: %v, want %v", err, errPut)
	}
}
