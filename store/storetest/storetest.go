// Package storetest is the conformance suite every store.Store passes: the
// embedded SQLite store and the PostgreSQL one run the same subtests, so the
// rest of Clair can rely on behaviour rather than on an implementation.
package storetest

import (
	"testing"

	"github.com/openclair/clair/store"
)

// Run runs the suite. open must return a new, empty store for each call and
// arrange (with t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"LayerScan", testLayerScan},
		{"IndexReport", testIndexReport},
		{"IndexReportVersion", testIndexReportVersion},
		{"Manifests", testManifests},
		{"Ping", testPing},
		{"PoolStats", testPoolStats},
		{"Namespaces", testNamespaces},
		{"PackageNames", testPackageNames},
		{"EnrichReplaceAndQuery", testEnrichReplaceAndQuery},
		{"EnrichLoadErrorKeepsPrevious", testEnrichLoadErrorKeepsPrevious},
		{"EnrichBadRecordsRejected", testEnrichBadRecords},
		{"EnrichIncrementCarriesOver", testEnrichIncrement},
		{"FeedStateNotFound", testFeedStateNotFound},
		{"ReplaceFeedAndQuery", testReplaceFeedAndQuery},
		{"ReplaceFeedReplaces", testReplaceFeedReplaces},
		{"ReplaceFeedEmpty", testReplaceFeedEmpty},
		{"LoadErrorRollsBack", testLoadErrorRollsBack},
		{"SwallowedEmitErrorRollsBack", testSwallowedEmitErrorRollsBack},
		{"CancelRollsBack", testCancelRollsBack},
		{"ForeignFeedRejected", testForeignFeedRejected},
		{"NULRejected", testNULRejected},
		{"EmitAfterLoad", testEmitAfterLoad},
		{"TouchFeed", testTouchFeed},
		{"DetailsShared", testDetailsShared},
		{"ManyPackages", testManyPackages},
		{"StringsRoundTrip", testStringsRoundTrip},
		{"RangesRoundTrip", testRangesRoundTrip},
		{"Concurrent", testConcurrent},
		{"DeleteIndexReports", testDeleteIndexReports},
		{"UpdateOperations", testUpdateOperations},
		{"UpdateDiff", testUpdateDiff},
		{"UpdateDiffFromEmpty", testUpdateDiffFromEmpty},
		{"UpdateDiffErrors", testUpdateDiffErrors},
		{"UpdateDiffRollback", testUpdateDiffRollback},
		{"GC", testGC},
		{"TryLock", testTryLock},
		{"Lock", testLock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}
