package updater

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/debian"
	"github.com/openclair/clair/internal/sharedtest"
	"github.com/openclair/clair/store/sqlite"
)

// BenchmarkBundle measures an import of the real Debian tracker from a
// bundle against its floor, the plain update of the same document from a
// file:// mirror into an empty SQLite store: both parse the same snapshot
// and write the same 100,051 advisories, so the ratio import/update is
// what the bundle's decompression, checksum and spill cost.
func BenchmarkBundle(b *testing.B) {
	tracker := sharedtest.Path(b, "feeds/debian/tracker-json-from-osv.json.gz")
	ctx := context.Background()
	feeds := []feed.Feed{debian.New()}
	bundle := filepath.Join(b.TempDir(), "updates.tar.zst")
	out, err := os.Create(bundle)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := (&Updater{URLs: map[string]string{"debian": tracker}}).ExportBundle(ctx, out, feeds); err != nil {
		b.Fatal(err)
	}
	out.Close()
	store := func(b *testing.B) *sqlite.Store {
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "clair.db"))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("floor-update", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			st := store(b)
			b.StartTimer()
			if _, err := (&Updater{Store: st, URLs: map[string]string{"debian": tracker}}).Run(ctx, feeds); err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
	})
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			st := store(b)
			b.StartTimer()
			if _, err := (&Updater{Store: st}).ImportBundleURL(ctx, bundle); err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
	})
}
