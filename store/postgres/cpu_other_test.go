//go:build !unix

package postgres

import "time"

func cpuTime() time.Duration { return 0 }
