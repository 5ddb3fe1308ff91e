package postgres

import (
	"context"
	"testing"

	"github.com/openclair/clair/store"
	"github.com/openclair/clair/store/storetest"
)

// BenchmarkStore runs the stores' one benchmark suite on PostgreSQL. The
// read benchmarks' data is vacuumed and analysed once written, as
// autovacuum would soon after a big update: statistics for the planner and
// a visibility map for index-only reads. cpu-ns/op is the client's CPU
// only; the server's work shows in the wall time.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) store.Store { return openCfg(tb, testSchema(tb)) },
		func(ctx context.Context, s store.Store) error {
			_, err := s.(*Store).pool.Exec(ctx, "VACUUM ANALYZE advisory, vulnerability_detail")
			return err
		})
}
