package sharedtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestTxtar(t *testing.T) {
	got := Txtar([]byte("comment\n-- a --\nx\ny\n-- b/c --\n-- d --\nz"))
	want := map[string][]byte{"a": []byte("x\ny\n"), "b/c": {}, "d": []byte("z")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTxtarShared splits trivy's real dpkg fixture: its status file is one
// of the files.
func TestTxtarShared(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(Path(t, "pkgdb/dpkg"), "trivy-valid.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	files := Txtar(b)
	st, ok := files["var/lib/dpkg/status"]
	if len(files) != 1 || !ok || !strings.HasPrefix(string(st), "Package: ") {
		t.Fatalf("%d files, status %q", len(files), st[:min(len(st), 40)])
	}
}
