//go:build !race

package osv

const raceEnabled = false
