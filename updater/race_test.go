//go:build race

package updater

// raceEnabled: the race detector slows parsing many times over; the tests
// then use the repository's small real excerpts instead of whole feeds.
const raceEnabled = true
