//go:build race

package osv

// raceEnabled: the full exports take minutes under the race detector; the
// tests that read them use the testdata records instead.
const raceEnabled = true
