package sqlite

import (
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/storetest"
)

// BenchmarkStore runs the stores' one benchmark suite on SQLite.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) store.Store { return openTemp(tb) }, nil)
}
