//go:build !race

package debian

const raceEnabled = false
