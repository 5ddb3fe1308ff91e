//go:build race

package debian

// raceEnabled relaxes timing limits: the race detector slows parsing several
// times over.
const raceEnabled = true
